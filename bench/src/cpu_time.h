// CPU time consumed by a process (user + system), to turn a measured window into CPU
// microseconds per operation on each side of the socket.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "load_generator.h"

namespace lattice::bench {

// utime + stime of `pid` from /proc/<pid>/stat, in seconds (clock-tick resolution).
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

// The same for this process, from getrusage (microsecond resolution).
double SelfCpuSeconds();

// Context switches, voluntary and not, of every thread `pid` has now (from
// /proc/<pid>/task/*/status): how often its threads hand work to each other and sleep.
absl::StatusOr<uint64_t> ProcessContextSwitches(pid_t pid);

// The CPU time a server process (when given) and this process spend inside one load
// generator's measured window. Not thread-safe: attach it to one run at a time.
class CpuWindow {
 public:
  explicit CpuWindow(pid_t server = -1) : server_(server) {}
  CpuWindow(const CpuWindow&) = delete;
  CpuWindow& operator=(const CpuWindow&) = delete;

  // Makes `load` read the clocks as its window opens and closes; this object must outlive
  // the run.
  void Attach(LoadOptions& load);

  bool has_server() const { return server_ > 0; }
  double server_seconds() const { return server_end_ - server_start_; }
  double self_seconds() const { return self_end_ - self_start_; }
  // The server's context switches in the window; none when they cannot be told. Threads
  // that end within the window take theirs with them, so a server whose thread pool shrinks
  // (gRPC's synchronous server) is undercounted, and unknown when the sum fell.
  std::optional<uint64_t> server_switches() const {
    if (!server_switches_start_ || !server_switches_end_ ||
        *server_switches_end_ < *server_switches_start_) {
      return std::nullopt;
    }
    return *server_switches_end_ - *server_switches_start_;
  }

 private:
  pid_t server_;
  double server_start_ = 0, server_end_ = 0, self_start_ = 0, self_end_ = 0;
  std::optional<uint64_t> server_switches_start_, server_switches_end_;
};

}  // namespace lattice::bench
