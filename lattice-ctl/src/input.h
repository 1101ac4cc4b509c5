// Reading lattice-ctl's inputs: a value from stdin, an ingest file, bounded in size.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"

namespace lattice::ctl {

// All of `stream` as bytes (binary-safe). RESOURCE_EXHAUSTED when it holds more than
// `max_bytes`; `what` names the input in errors.
absl::StatusOr<std::string> ReadStream(std::FILE* stream, size_t max_bytes,
                                       const std::string& what);

// The content of `path`, or of stdin when `path` is "-".
absl::StatusOr<std::string> ReadFileOrStdin(const std::string& path, size_t max_bytes);

}  // namespace lattice::ctl
