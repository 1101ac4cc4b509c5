#include "lattice/common/status.h"
#include "sys/notify.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace lattice::kernel {
namespace {

constexpr int kKeepEnvironment = 0;  // child daemons get an environment built for them

// Sends `message` over NOTIFY_SOCKET. OK also when there is no socket to send to.
absl::Status SendNotification(const std::string& message, const std::string& what) {
  int r = sd_notify(kKeepEnvironment, message.c_str());
  if (r >= 0) return absl::OkStatus();
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return absl::UnavailableError(fmt::format("systemd notification {} to {} failed: {}", what,
                                            socket != nullptr ? socket : "(unset)",
                                            std::strerror(-r)));
}

}  // namespace

SystemdNotifier::SystemdNotifier() : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

SystemdNotifier::~SystemdNotifier() { StopWatchdog(); }

absl::Status SystemdNotifier::NotifyReady() { return Send("READY=1", "READY"); }

absl::Status SystemdNotifier::NotifyStopping() { return Send("STOPPING=1", "STOPPING"); }

absl::Status SystemdNotifier::NotifyStatus(const std::string& status) {
  std::string line = status;
  std::replace(line.begin(), line.end(), '\n', ' ');
  return Send("STATUS=" + line, "STATUS");
}

absl::Status SystemdNotifier::Send(const std::string& message, const std::string& what) {
  if (!enabled_) return absl::OkStatus();
  return SendNotification(message, what);
}

absl::StatusOr<std::chrono::microseconds> SystemdNotifier::StartWatchdog(HealthProbe probe) {
  if (!enabled_) return std::chrono::microseconds(0);
  uint64_t usec = 0;
  int r = sd_watchdog_enabled(kKeepEnvironment, &usec);
  if (r < 0) {
    return absl::InvalidArgumentError(
        fmt::format("systemd watchdog: WATCHDOG_USEC/WATCHDOG_PID do not parse: {}",
                    std::strerror(-r)));
  }
  if (r == 0 || usec == 0) return std::chrono::microseconds(0);
  StopWatchdog();
  const auto interval = std::chrono::microseconds(usec);
  // Half the interval, as sd_watchdog_enabled(3) advises: one late round is not yet fatal.
  watchdog_ = std::jthread(&SystemdNotifier::RunWatchdog, std::move(probe), interval / 2);
  spdlog::info("systemd watchdog: interval {} ms, fed every {} ms while healthy",
               interval.count() / 1000, interval.count() / 2000);
  return interval;
}

void SystemdNotifier::StopWatchdog() {
  if (!watchdog_.joinable()) return;
  watchdog_.request_stop();
  watchdog_.join();
}

void SystemdNotifier::RunWatchdog(std::stop_token stop, HealthProbe probe,
                                  std::chrono::microseconds period) {
  std::mutex mu;
  std::condition_variable_any wake;
  bool healthy = true;  // log transitions only, not every round
  bool sent_ok = true;
  auto next = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    const bool probe_passed = probe();
    if (probe_passed) {
      absl::Status sent = SendNotification("WATCHDOG=1", "WATCHDOG");
      if (!sent.ok() && sent_ok) spdlog::warn("{}", std::string(sent.message()));
      if (sent.ok() && !sent_ok) spdlog::info("systemd watchdog: notifications work again");
      sent_ok = sent.ok();
    }
    if (!probe_passed && healthy) {
      spdlog::warn("systemd watchdog: health probe failed, not feeding the watchdog; systemd "
                   "restarts the kernel if this lasts");
    }
    if (probe_passed && !healthy) spdlog::info("systemd watchdog: health probe passes again");
    healthy = probe_passed;

    // After a probe slower than the period, wait a whole period again rather than firing
    // catch-up rounds back to back.
    next += period;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + period;
    std::unique_lock lock(mu);
    wake.wait_until(lock, stop, next, [] { return false; });
  }
}

}  // namespace lattice::kernel
