// How one instance is started: the binary from the descriptor (a bare name only in the
// kernel's own bin directory), its argv built from the descriptor's fixed arguments and the
// checked setting values, and a clean environment holding LATTICE_SOCKET, LATTICE_TOKEN, the
// descriptor's fixed variables and the settings passed by environment. No shell is involved.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/descriptor.h"
#include "services/settings.h"

namespace lattice::services {

struct LaunchSpec {
  std::string binary;             // absolute path
  std::vector<std::string> argv;  // argv[0] is `binary`
  std::vector<std::string> env;   // NAME=value
  std::string shown;              // argv for the log, secret values masked
  std::string socket;             // the kernel's socket: all of the kernel the daemon may reach
};

// The absolute path of the descriptor's binary: an absolute path as it is, a bare name in
// `bin_dir`. NOT_FOUND / FAILED_PRECONDITION when it is missing or not executable.
absl::StatusOr<std::string> ResolveBinary(const ServiceDescriptor& descriptor,
                                          const std::string& bin_dir);

// Long flags are passed as one argument "--flag=value", so no value can be taken for an
// option of its own; a bool setting with a flag passes the bare flag when true.
LaunchSpec BuildLaunch(const ServiceDescriptor& descriptor, const std::string& binary,
                       const std::string& store_id, const SettingValues& values,
                       const std::string& socket, const std::string& token);

// The endpoint in a daemon's "... listening on HOST:PORT" line ("[v6]:PORT" too) as
// "tcp://HOST:PORT", with the port; nullopt for any other line.
struct ReportedEndpoint {
  std::string endpoint;
  int port = 0;
};
std::optional<ReportedEndpoint> ParseListeningLine(std::string_view line);

}  // namespace lattice::services
