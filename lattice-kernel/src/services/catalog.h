// The descriptors this node knows: every *.toml in the services directories, read once at
// start. A malformed one is reported (file, line, reason) and skipped; the kernel stays up.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "services/descriptor.h"

namespace lattice::services {

struct Catalog {
  std::map<std::string, std::shared_ptr<const ServiceDescriptor>> descriptors;  // by id
  std::vector<std::string> errors;                                               // FILE:LINE: reason

  std::shared_ptr<const ServiceDescriptor> Find(const std::string& id) const;
};

// Reads `dirs` in order; the first descriptor of an id wins, later ones are errors. A
// missing directory is an error too (unless `missing_ok`). `allow_absolute_binary` for
// directories the operator named.
Catalog LoadCatalog(const std::vector<std::string>& dirs, bool allow_absolute_binary,
                    bool missing_ok = false);

// The directory of the running kernel binary (/proc/self/exe), where bare binary names are
// looked up, and the descriptors installed beside it: <bin>/../share/lattice/services.
std::string KernelBinDir();
std::string DefaultServicesDir();

}  // namespace lattice::services
