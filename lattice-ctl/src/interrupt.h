// Ctrl-C and SIGTERM for lattice-ctl. gRPC calls are not async-signal-safe, so the signals
// are blocked in every thread and taken by one dedicated thread with sigwait(): while a
// watch runs, the signal cancels it (and the command ends normally); otherwise, or on a second
// signal, the process exits at once with 128 + the signal number.
#pragma once

#include <functional>

namespace lattice::ctl {

// Blocks SIGINT and SIGTERM and starts the signal thread. Call once, before any other thread
// (gRPC's included) exists, so they all inherit the mask.
void InstallInterruptHandling();

// Routes the signals to `on_interrupt` while it lives. `on_interrupt` runs on the signal
// thread and must be quick and thread-safe (WatchCanceller::Cancel is). Only one at a time.
class ScopedInterruptHook {
 public:
  explicit ScopedInterruptHook(std::function<void()> on_interrupt);
  ~ScopedInterruptHook();
  ScopedInterruptHook(const ScopedInterruptHook&) = delete;
  ScopedInterruptHook& operator=(const ScopedInterruptHook&) = delete;
};

}  // namespace lattice::ctl
