// The kernel's settings: defaults, overridden by a TOML file, then by LATTICE_* environment
// variables, then by command-line flags (DESIGN §10).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lattice::kernel {

struct KernelConfig {
  std::string data_dir;
  std::string socket;
  std::string name;
  std::string log_level = "info";
  uint64_t min_free_bytes = 64ull << 20;
};

// Parses argv (CLI11). Returns the config, or a status whose message is the usage error;
// OK-with-exit is signalled by `exit_code` (>= 0) for --help and --version.
absl::StatusOr<KernelConfig> LoadKernelConfig(int argc, char** argv, int* exit_code);

}  // namespace lattice::kernel
