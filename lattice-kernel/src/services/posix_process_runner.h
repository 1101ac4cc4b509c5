// ProcessRunner on Linux: fork and execve with PR_SET_PDEATHSIG(SIGKILL), a process group of
// its own, confined to the system and the kernel's socket (confinement.h), pipes for stdout
// and stderr and a pidfd for the exit, all watched by one thread with epoll. Thread-safe; the
// callbacks run on its thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "services/process_runner.h"

namespace lattice::services {

class PosixProcessRunner final : public ProcessRunner {
 public:
  static absl::StatusOr<std::unique_ptr<PosixProcessRunner>> Create(ProcessCallbacks callbacks);
  // Stops watching; processes still running are not signalled (the supervisor stops them
  // first) and are not reported.
  ~PosixProcessRunner() override;

  absl::StatusOr<StartedProcess> Spawn(const LaunchSpec& spec) override;
  void Signal(uint64_t handle, int signal) override;

 private:
  struct Child;
  PosixProcessRunner(ProcessCallbacks callbacks, int epoll_fd, int wake_fd);
  void Run();
  void ReadOutput(uint64_t handle, Child& child, int fd, bool drain);
  void Reap(uint64_t handle);

  ProcessCallbacks callbacks_;
  int epoll_fd_;
  int wake_fd_;
  std::mutex mu_;
  std::map<uint64_t, std::unique_ptr<Child>> children_;
  uint64_t next_handle_ = 1;
  std::once_flag confinement_logged_;
  std::thread thread_;
};

// The starttime field of /proc/<pid>/stat (clock ticks after boot), 0 when unreadable.
uint64_t ProcessStartTicks(pid_t pid);
// Whether `pid` is still the process that started at `start_ticks` and has not exited (a
// zombie has).
bool ProcessIsLive(pid_t pid, uint64_t start_ticks);

}  // namespace lattice::services
