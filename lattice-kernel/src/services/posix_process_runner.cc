#include "lattice/common/status.h"
#include "services/posix_process_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "lattice/common/files.h"
#include "services/confinement.h"
#include "services/service_limits.h"

namespace lattice::services {
namespace {

// epoll data: the handle in the high bits, what the fd is in the low two.
enum FdKind : uint64_t { kStdout = 0, kStderr = 1, kExit = 2 };
constexpr uint64_t kWakeTag = ~uint64_t{0};
uint64_t Tag(uint64_t handle, FdKind kind) { return (handle << 2) | kind; }

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(pid_t parent, int null_in, int out_w, int err_w, int status_w,
                            const Confinement& confinement, const char* binary,
                            char* const* argv, char* const* envp) {
  auto fail = [&](int err) {
    (void)!::write(status_w, &err, sizeof err);
    ::_exit(127);
  };
  if (::setpgid(0, 0) != 0) fail(errno);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
  // The kernel may have died before the prctl took effect.
  if (::getppid() != parent) ::_exit(127);
  if (int err = confinement.ApplyInChild(); err != 0) fail(err);
  if (::dup2(null_in, 0) < 0 || ::dup2(out_w, 1) < 0 || ::dup2(err_w, 2) < 0) fail(errno);
  if (::dup2(status_w, 3) < 0) fail(errno);
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  status_w = 3;
  ::syscall(SYS_close_range, 4u, ~0u, 0u);
  // The kernel blocks SIGTERM/SIGINT/SIGHUP and ignores SIGPIPE; exec keeps both.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &default_action, nullptr);
  if (::chdir("/") != 0) fail(errno);
  ::execve(binary, argv, envp);
  fail(errno);
  ::_exit(127);
}

}  // namespace

std::string DescribeExit(const ProcessExit& exit) {
  if (exit.signal != 0) return fmt::format("killed by signal {} ({})", exit.signal, ::strsignal(exit.signal));
  return fmt::format("exited with status {}", exit.exit_code);
}

namespace {

// State (field 3) and starttime (field 22) of /proc/<pid>/stat; {0, 0} when unreadable.
std::pair<char, uint64_t> ReadStat(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return {0, 0};
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  char state = 0;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return {0, 0};
    if (i == 3) state = field[0];
  }
  return {state, std::strtoull(field.c_str(), nullptr, 10)};
}

}  // namespace

uint64_t ProcessStartTicks(pid_t pid) { return ReadStat(pid).second; }

bool ProcessIsLive(pid_t pid, uint64_t start_ticks) {
  auto [state, ticks] = ReadStat(pid);
  return ticks != 0 && ticks == start_ticks && state != 'Z' && state != 'X';
}

struct PosixProcessRunner::Child {
  pid_t pid = 0;
  int out_fd = -1;
  int err_fd = -1;
  int pid_fd = -1;
  std::string out_partial;
  std::string err_partial;
};

absl::StatusOr<std::unique_ptr<PosixProcessRunner>> PosixProcessRunner::Create(
    ProcessCallbacks callbacks) {
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return ErrnoStatus(errno, "epoll_create1");
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    int err = errno;
    ::close(epoll_fd);
    return ErrnoStatus(err, "eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event);
  std::unique_ptr<PosixProcessRunner> runner(
      new PosixProcessRunner(std::move(callbacks), epoll_fd, wake_fd));
  runner->thread_ = std::thread([r = runner.get()] { r->Run(); });
  return runner;
}

PosixProcessRunner::PosixProcessRunner(ProcessCallbacks callbacks, int epoll_fd, int wake_fd)
    : callbacks_(std::move(callbacks)), epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

PosixProcessRunner::~PosixProcessRunner() {
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  for (auto& [handle, child] : children_) {
    CloseFd(child->out_fd);
    CloseFd(child->err_fd);
    CloseFd(child->pid_fd);
  }
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

absl::StatusOr<StartedProcess> PosixProcessRunner::Spawn(const LaunchSpec& spec) {
  int out[2], err[2], status[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return ErrnoStatus(e, "pipe");
  }
  if (::pipe2(status, O_CLOEXEC) != 0) {
    int e = errno;
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    return ErrnoStatus(e, "pipe");
  }
  auto confinement = Confinement::Prepare(spec.binary, spec.socket);
  if (!confinement.ok()) {
    for (int fd : {out[0], out[1], err[0], err[1], status[0], status[1]}) ::close(fd);
    return absl::FailedPreconditionError(fmt::format("cannot confine {}: {}", spec.binary,
                                                     confinement.status().message()));
  }
  std::call_once(confinement_logged_, [&] {
    spdlog::info("daemons are confined: {}", confinement->description());
  });
  int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto argv = CStrings(spec.argv);
  auto envp = CStrings(spec.env);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ExecChild(parent, null_in, out[1], err[1], status[1], *confinement, spec.binary.c_str(),
              argv.data(), envp.data());
  }
  int fork_errno = errno;
  for (int fd : {out[1], err[1], status[1], null_in}) ::close(fd);
  if (pid < 0) {
    for (int fd : {out[0], err[0], status[0]}) ::close(fd);
    return ErrnoStatus(fork_errno, "fork");
  }
  // The status pipe closes on a successful exec; an errno arrives when it failed.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(status[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    ::close(out[0]);
    ::close(err[0]);
    return absl::FailedPreconditionError(
        fmt::format("cannot execute {}: {}", spec.binary, std::strerror(exec_errno)));
  }
  auto child = std::make_unique<Child>();
  child->pid = pid;
  child->out_fd = out[0];
  child->err_fd = err[0];
  child->pid_fd = PidfdOpen(pid);
  ::fcntl(child->out_fd, F_SETFL, O_NONBLOCK);
  ::fcntl(child->err_fd, F_SETFL, O_NONBLOCK);
  StartedProcess started;
  started.pid = pid;
  started.start_ticks = ProcessStartTicks(pid);
  std::lock_guard lock(mu_);
  started.handle = next_handle_++;
  auto add = [&](int fd, FdKind kind) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = Tag(started.handle, kind);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  };
  add(child->out_fd, kStdout);
  add(child->err_fd, kStderr);
  if (child->pid_fd >= 0) add(child->pid_fd, kExit);
  children_[started.handle] = std::move(child);
  return started;
}

void PosixProcessRunner::Signal(uint64_t handle, int signal) {
  std::lock_guard lock(mu_);
  auto it = children_.find(handle);
  if (it == children_.end()) return;
  // The group may already be gone while the leader is a zombie; ESRCH is fine then.
  if (::kill(-it->second->pid, signal) != 0) ::kill(it->second->pid, signal);
}

void PosixProcessRunner::ReadOutput(uint64_t handle, Child& child, int fd, bool drain) {
  bool is_stderr = fd == child.err_fd;
  std::string& partial = is_stderr ? child.err_partial : child.out_partial;
  char buffer[8192];
  std::vector<std::string> lines;
  bool closed = false;
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed = n == 0;
      break;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        lines.push_back(std::move(partial));
        partial.clear();
      } else if (partial.size() < limits::kMaxOutputLineBytes) {
        partial += buffer[i];
      }
    }
    if (!drain && lines.size() > 64) break;  // let other children have a turn
  }
  if ((closed || drain) && !partial.empty()) {
    lines.push_back(std::move(partial));
    partial.clear();
  }
  if (closed) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    if (is_stderr) CloseFd(child.err_fd);
    else CloseFd(child.out_fd);
  }
  for (auto& line : lines) {
    if (callbacks_.on_line) callbacks_.on_line(handle, is_stderr, std::move(line));
  }
}

void PosixProcessRunner::Reap(uint64_t handle) {
  std::unique_ptr<Child> child;
  ProcessExit exit;
  {
    std::lock_guard lock(mu_);
    auto it = children_.find(handle);
    if (it == children_.end()) return;
    int status = 0;
    pid_t r = ::waitpid(it->second->pid, &status, WNOHANG);
    if (r == 0) return;  // not yet
    if (r == it->second->pid) {
      if (WIFEXITED(status)) exit.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
    }
    child = std::move(it->second);
    children_.erase(it);
  }
  // Whatever it wrote before it died comes before the exit.
  for (int fd : {child->out_fd, child->err_fd}) {
    if (fd >= 0) ReadOutput(handle, *child, fd, /*drain=*/true);
  }
  for (int* fd : {&child->out_fd, &child->err_fd, &child->pid_fd}) {
    if (*fd >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, *fd, nullptr);
    CloseFd(*fd);
  }
  if (callbacks_.on_exit) callbacks_.on_exit(handle, exit);
}

void PosixProcessRunner::Run() {
  epoll_event events[32];
  while (true) {
    int n = ::epoll_wait(epoll_fd_, events, 32, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) return;
      uint64_t handle = tag >> 2;
      auto kind = static_cast<FdKind>(tag & 3);
      if (kind == kExit) {
        Reap(handle);
        continue;
      }
      std::unique_lock lock(mu_);
      auto it = children_.find(handle);
      if (it == children_.end()) continue;
      Child& child = *it->second;
      int fd = kind == kStdout ? child.out_fd : child.err_fd;
      if (fd < 0) continue;
      lock.unlock();
      // Only this thread closes or erases children, so `child` stays valid unlocked.
      ReadOutput(handle, child, fd, /*drain=*/false);
    }
  }
}

}  // namespace lattice::services
