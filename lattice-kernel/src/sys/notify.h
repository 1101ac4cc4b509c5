// Tells systemd where the kernel is in its life (READY, STOPPING, STATUS) and feeds the unit's
// watchdog while a health probe says the kernel is well. Outside systemd it does nothing.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::kernel {

// A thin layer over sd_notify(3) for lattice-kernel.service (Type=notify, WatchdogSec=).
//
// Contract:
// - When NOTIFY_SOCKET is unset (not started by systemd, or by a unit that is not
//   Type=notify) every Notify* call returns OK without doing anything, and StartWatchdog
//   starts nothing.
// - The environment is left as systemd set it (sd_notify's unset_environment is 0): child
//   daemons are started with an environment built by the ServiceManager, not this one.
//   libsystemd reads NOTIFY_SOCKET with getenv() on every call, so nothing in the process may
//   setenv()/unsetenv() while notifications or the watchdog run.
// - The watchdog thread sends WATCHDOG=1 every half WATCHDOG_USEC, and only after the health
//   probe returned true for that round: a wedged kernel stops feeding the watchdog and systemd
//   kills and restarts it.
//
// Thread safety: the Notify* methods may be called from any thread. StartWatchdog and
// StopWatchdog belong to the owner (the thread that runs start-up and shutdown). The
// destructor stops the watchdog thread.
class SystemdNotifier {
 public:
  // Returns true when the kernel is healthy enough to keep running: typically it posts a no-op
  // to the event loop and waits for it with a timeout. Runs on the watchdog thread, so it must
  // be thread-safe, and it should return well within half the watchdog interval. A probe that
  // never returns starves the watchdog (which is the point) but also blocks StopWatchdog.
  using HealthProbe = std::function<bool()>;

  SystemdNotifier();
  ~SystemdNotifier();

  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // True when NOTIFY_SOCKET was set when this object was made.
  bool enabled() const { return enabled_; }

  // READY=1: start-up is complete and the kernel socket accepts calls.
  absl::Status NotifyReady();
  // STOPPING=1: shutdown has begun (children are being stopped, stores flushed).
  absl::Status NotifyStopping();
  // STATUS=<text>, shown by `systemctl status`. Line breaks become spaces, so the text cannot
  // smuggle in other assignments such as READY=1.
  absl::Status NotifyStatus(const std::string& status);

  // Starts the watchdog thread if systemd asked for one for this process (WATCHDOG_USEC set
  // and WATCHDOG_PID absent or equal to getpid()). Returns the watchdog interval, or zero when
  // none was asked for and nothing was started. INVALID_ARGUMENT when systemd's variables do
  // not parse.
  // REQUIRES: `probe` is callable; the watchdog is not already running.
  absl::StatusOr<std::chrono::microseconds> StartWatchdog(HealthProbe probe);

  // Stops and joins the watchdog thread; no-op when it is not running.
  void StopWatchdog();

 private:
  // Body of watchdog_: feeds the watchdog every `period` while `probe` passes, until stopped.
  static void RunWatchdog(std::stop_token stop, HealthProbe probe,
                          std::chrono::microseconds period);

  // Sends one notification; `what` names it in error messages.
  absl::Status Send(const std::string& message, const std::string& what);

  bool enabled_ = false;
  std::jthread watchdog_;
};

}  // namespace lattice::kernel
