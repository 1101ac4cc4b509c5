// SystemdNotifier against a real notification socket: the test plays systemd by binding a Unix
// datagram socket, pointing NOTIFY_SOCKET at it and reading what the notifier sends.
#include "sys/notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace lattice::kernel {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(10);  // generous: CI runs tests in parallel

std::vector<std::string> Lines(const std::string& datagram) {
  std::vector<std::string> lines;
  std::istringstream in(datagram);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool HasLine(const std::string& datagram, const std::string& line) {
  for (const auto& l : Lines(datagram)) {
    if (l == line) return true;
  }
  return false;
}

// Plays systemd's side: a datagram socket in a fresh temporary directory, named by
// NOTIFY_SOCKET for as long as it lives. Removes the socket and every variable it set.
class FakeServiceManager {
 public:
  FakeServiceManager() {
    std::string pattern = testing::TempDir() + "lattice-notify-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
      return;
    }
    dir_ = pattern;
    path_ = dir_ + "/notify.sock";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) {
      ADD_FAILURE() << "socket path too long for sockaddr_un: " << path_;
      return;
    }
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "bind " << path_ << ": " << std::strerror(errno);
      return;
    }
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }

  ~FakeServiceManager() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
  }

  FakeServiceManager(const FakeServiceManager&) = delete;
  FakeServiceManager& operator=(const FakeServiceManager&) = delete;

  // Asks for a watchdog the way systemd does for a unit with WatchdogSec=.
  void RequestWatchdog(milliseconds interval, pid_t pid) {
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(interval).count();
    setenv("WATCHDOG_USEC", fmt::format("{}", usec).c_str(), 1);
    setenv("WATCHDOG_PID", fmt::format("{}", pid).c_str(), 1);
  }

  // The next datagram, or nullopt if none arrives before `deadline`.
  std::optional<std::string> Receive(Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n < 0) {
        ADD_FAILURE() << "recv: " << std::strerror(errno);
        return std::nullopt;
      }
      return std::string(buf, static_cast<size_t>(n));
    }
  }

  // Reads datagrams until one has `line` or the deadline passes.
  bool WaitForLine(const std::string& line, Clock::time_point deadline) {
    while (auto datagram = Receive(deadline)) {
      if (HasLine(*datagram, line)) return true;
    }
    return false;
  }

  // Every datagram already queued, without waiting.
  std::vector<std::string> Drain() {
    std::vector<std::string> out;
    while (auto datagram = Receive(Clock::now())) out.push_back(*datagram);
    return out;
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

// A health probe whose answer the test sets and whose calls it can wait for.
class ScriptedProbe {
 public:
  explicit ScriptedProbe(bool healthy) : healthy_(healthy) {}

  SystemdNotifier::HealthProbe AsProbe() {
    return [this] {
      std::lock_guard lock(mu_);
      ++calls_;
      called_.notify_all();
      return healthy_;
    };
  }

  void SetHealthy(bool healthy) {
    std::lock_guard lock(mu_);
    healthy_ = healthy;
  }

  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

  // True once the probe has been called at least `n` times in total.
  bool WaitForCalls(int n, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return called_.wait_until(lock, deadline, [&] { return calls_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable called_;
  bool healthy_;
  int calls_ = 0;
};

TEST(SystemdNotifier, SendsReadyThenStopping) {
  FakeServiceManager systemd;
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.enabled());

  ASSERT_TRUE(notifier.NotifyReady().ok());
  auto ready = systemd.Receive(Clock::now() + kDeadline);
  ASSERT_TRUE(ready.has_value()) << "no datagram after NotifyReady";
  EXPECT_TRUE(HasLine(*ready, "READY=1")) << *ready;

  ASSERT_TRUE(notifier.NotifyStopping().ok());
  auto stopping = systemd.Receive(Clock::now() + kDeadline);
  ASSERT_TRUE(stopping.has_value()) << "no datagram after NotifyStopping";
  EXPECT_TRUE(HasLine(*stopping, "STOPPING=1")) << *stopping;
  EXPECT_FALSE(HasLine(*stopping, "READY=1")) << *stopping;
}

TEST(SystemdNotifier, StatusCannotInjectOtherAssignments) {
  FakeServiceManager systemd;
  SystemdNotifier notifier;

  ASSERT_TRUE(notifier.NotifyStatus("3 stores open\nREADY=1").ok());
  auto status = systemd.Receive(Clock::now() + kDeadline);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, "STATUS=3 stores open READY=1");
  EXPECT_FALSE(HasLine(*status, "READY=1"));
}

TEST(SystemdNotifier, WithoutNotifySocketEverythingIsANoOp) {
  FakeServiceManager systemd;
  unsetenv("NOTIFY_SOCKET");
  systemd.RequestWatchdog(milliseconds(100), getpid());
  ScriptedProbe probe(true);
  {
    SystemdNotifier notifier;
    EXPECT_FALSE(notifier.enabled());
    EXPECT_TRUE(notifier.NotifyReady().ok());
    EXPECT_TRUE(notifier.NotifyStatus("idle").ok());
    auto interval = notifier.StartWatchdog(probe.AsProbe());
    ASSERT_TRUE(interval.ok()) << interval.status();
    EXPECT_EQ(interval->count(), 0);
  }
  EXPECT_EQ(probe.calls(), 0);
  EXPECT_TRUE(systemd.Drain().empty());
  // The environment is left as systemd made it.
  EXPECT_NE(std::getenv("WATCHDOG_USEC"), nullptr);
}

TEST(SystemdNotifier, WatchdogIsFedWhileTheProbePasses) {
  FakeServiceManager systemd;
  systemd.RequestWatchdog(milliseconds(100), getpid());
  ScriptedProbe probe(true);
  SystemdNotifier notifier;

  auto interval = notifier.StartWatchdog(probe.AsProbe());
  ASSERT_TRUE(interval.ok()) << interval.status();
  EXPECT_EQ(interval->count(), 100000);

  // Fed every 50 ms, so three feedings take about 0.1 s. The 3 s bound leaves room for a
  // loaded CI machine yet catches a period in the wrong unit.
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(systemd.WaitForLine("WATCHDOG=1", deadline)) << "feeding " << i + 1;
  }
  // sd_watchdog_enabled(0, ...) must not have consumed systemd's variables.
  EXPECT_NE(std::getenv("WATCHDOG_USEC"), nullptr);
  EXPECT_NE(std::getenv("NOTIFY_SOCKET"), nullptr);
}

TEST(SystemdNotifier, WedgedKernelStarvesTheWatchdogUntilItRecovers) {
  FakeServiceManager systemd;
  systemd.RequestWatchdog(milliseconds(100), getpid());
  ScriptedProbe probe(false);
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.StartWatchdog(probe.AsProbe()).ok());

  // Three failed rounds have run (their notifications, had any been sent, are queued by now)
  // and a further bounded wait of three periods brings nothing either.
  ASSERT_TRUE(probe.WaitForCalls(3, Clock::now() + kDeadline));
  EXPECT_FALSE(systemd.WaitForLine("WATCHDOG=1", Clock::now() + milliseconds(150)));

  probe.SetHealthy(true);
  EXPECT_TRUE(systemd.WaitForLine("WATCHDOG=1", Clock::now() + kDeadline));
}

TEST(SystemdNotifier, StopWatchdogEndsTheFeeding) {
  FakeServiceManager systemd;
  systemd.RequestWatchdog(milliseconds(100), getpid());
  ScriptedProbe probe(true);
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.StartWatchdog(probe.AsProbe()).ok());
  ASSERT_TRUE(systemd.WaitForLine("WATCHDOG=1", Clock::now() + kDeadline));

  notifier.StopWatchdog();
  const int calls_at_stop = probe.calls();
  systemd.Drain();
  // Five periods: a thread still running would have fed the watchdog several times.
  EXPECT_FALSE(systemd.WaitForLine("WATCHDOG=1", Clock::now() + milliseconds(250)));
  EXPECT_EQ(probe.calls(), calls_at_stop);
}

TEST(SystemdNotifier, WatchdogMeantForAnotherProcessIsNotStarted) {
  FakeServiceManager systemd;
  // What a child daemon would see if it inherited the kernel's environment.
  systemd.RequestWatchdog(milliseconds(100), getpid() + 1);
  ScriptedProbe probe(true);
  SystemdNotifier notifier;

  auto interval = notifier.StartWatchdog(probe.AsProbe());
  ASSERT_TRUE(interval.ok()) << interval.status();
  EXPECT_EQ(interval->count(), 0);
  notifier.StopWatchdog();
  EXPECT_EQ(probe.calls(), 0);
}

TEST(SystemdNotifier, MalformedWatchdogVariableIsAnError) {
  FakeServiceManager systemd;
  setenv("WATCHDOG_USEC", "thirty seconds", 1);
  SystemdNotifier notifier;

  auto interval = notifier.StartWatchdog([] { return true; });
  EXPECT_EQ(interval.status().code(), absl::StatusCode::kInvalidArgument) << interval.status();
}

}  // namespace
}  // namespace lattice::kernel
