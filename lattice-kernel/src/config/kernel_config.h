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
  // The memtable of each LevelDB database, in MiB (Database::kDefaultWriteBufferBytes).
  uint64_t write_buffer_mb = 64;
  // The peer transport (DESIGN §7): where to listen ("" = not at all), what to announce to
  // peers (empty: the listen address when it names a host), and the anti-entropy period.
  std::string listen = "0.0.0.0:7470";
  std::vector<std::string> advertise;
  uint64_t sync_interval_ms = 30'000;
  // The ServiceManager (DESIGN §8): directories of service descriptors (empty: the ones
  // installed beside the kernel, <bin>/../share/lattice/services) and where bare binary
  // names are found (empty: the kernel's own directory).
  std::vector<std::string> services_dirs;
  std::string bin_dir;
  // Chunk garbage collection of fs stores (store/chunk_gc.h): a pass this often, and how
  // long content no file shows any more is kept (open handles, lagging peers, fs history).
  uint64_t fs_gc_interval_ms = 5 * 60 * 1000;
  uint64_t fs_gc_grace_ms = 10 * 60 * 1000;
  // And how long a chunk uploaded, checked or read is kept whatever cites it (an upload
  // whose commit is still to come).
  uint64_t fs_gc_touch_ms = 10 * 60 * 1000;
};

// Parses argv (CLI11). Returns the config, or a status whose message is the usage error;
// OK-with-exit is signalled by `exit_code` (>= 0) for --help and --version.
absl::StatusOr<KernelConfig> LoadKernelConfig(int argc, char** argv, int* exit_code);

}  // namespace lattice::kernel
