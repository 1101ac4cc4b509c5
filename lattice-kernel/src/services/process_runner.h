// The process mechanics of supervision behind a small interface, so the policy (restart,
// backoff, start limit, stop escalation) is tested with a fake: start a daemon, signal its
// process group, hear its output lines and its exit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "services/launch.h"

namespace lattice::services {

struct ProcessExit {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal killed it
};
std::string DescribeExit(const ProcessExit& exit);

struct StartedProcess {
  uint64_t handle = 0;      // the runner's name for it, never reused
  pid_t pid = 0;            // also its process group id
  uint64_t start_ticks = 0; // /proc/<pid>/stat starttime: tells a reused pid apart
};

struct ProcessCallbacks {
  // A line of the daemon's stdout or stderr, without its newline (cut to
  // limits::kMaxOutputLineBytes). Every line of a process comes before its exit.
  std::function<void(uint64_t handle, bool is_stderr, std::string line)> on_line;
  std::function<void(uint64_t handle, ProcessExit exit)> on_exit;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Starts `spec` with exactly spec.env as its environment, stdin from /dev/null, in a
  // process group of its own, killed (SIGKILL) if the calling thread ends first. A binary
  // that cannot be executed is an error here, not an exit.
  // REQUIRES: always called from the same thread, which outlives every process it starts.
  virtual absl::StatusOr<StartedProcess> Spawn(const LaunchSpec& spec) = 0;
  // Sends `signal` to the process group of a process not yet reported as exited; nothing
  // otherwise.
  virtual void Signal(uint64_t handle, int signal) = 0;
};

}  // namespace lattice::services
