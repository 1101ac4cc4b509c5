#include "src/stop_signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include <spdlog/spdlog.h>

namespace lattice::fuse {
namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP};
// What the loop's thread is interrupted with: any signal it does not block works; SIGUSR1 is
// used by nothing else in lattice-fuse.
constexpr int kWakeSignal = SIGUSR1;
// A signal can land between the loop's check of the exit flag and its sem_wait(); the next
// one, this much later, finds it waiting.
constexpr auto kWakeInterval = std::chrono::milliseconds(50);

std::atomic<StopSignals*> instance{nullptr};

void Ignore(int) {}

void SetHandler(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the point is to interrupt sem_wait()
  ::sigaction(signal, &action, nullptr);
}

}  // namespace

StopSignals::StopSignals(fuse_session* session)
    : session_(session), loop_thread_(pthread_self()) {
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    spdlog::warn("no pipe for the stop signals ({}): a signal may not unmount at once",
                 std::strerror(errno));
  } else {
    ::fcntl(wake_pipe_[1], F_SETFL, O_NONBLOCK);
    waker_ = std::thread([this] { RunWaker(); });
  }
  instance.store(this);
  SetHandler(kWakeSignal, Ignore);
  for (int signal : kStopSignals) SetHandler(signal, OnStopSignal);
  ::signal(SIGPIPE, SIG_IGN);
}

StopSignals::~StopSignals() {
  LoopReturned();
  for (int signal : kStopSignals) SetHandler(signal, SIG_DFL);
  instance.store(nullptr);
  for (int fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void StopSignals::OnStopSignal(int signal) {
  // Async-signal-safe only: an atomic, libfuse's flag (what its own handler sets), write().
  StopSignals* self = instance.load();
  if (self == nullptr) return;
  int none = 0;
  self->taken_.compare_exchange_strong(none, signal);
  fuse_session_exit(self->session_);
  int saved_errno = errno;
  char byte = 1;
  if (::write(self->wake_pipe_[1], &byte, 1) < 0) {
    // Full (the waker is already awake) or no pipe: nothing more to do.
  }
  errno = saved_errno;
}

void StopSignals::RunWaker() {
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(wake_pipe_[0], &byte, 1);
  } while (n < 0 && errno == EINTR);
  std::unique_lock lock(mu_);
  if (n != 1 || loop_returned_) return;
  spdlog::info("{}: unmounting", strsignal(taken_.load()));
  while (!loop_returned_) {
    pthread_kill(loop_thread_, kWakeSignal);
    loop_returned_cv_.wait_for(lock, kWakeInterval);
  }
}

void StopSignals::LoopReturned() {
  {
    std::lock_guard lock(mu_);
    if (loop_returned_) return;
    loop_returned_ = true;
  }
  loop_returned_cv_.notify_all();
  if (waker_.joinable()) {
    // Wakes the waker if no signal did; a byte already there does as well.
    char byte = 0;
    if (::write(wake_pipe_[1], &byte, 1) < 0) {
      // Full: the waker has a byte to read already.
    }
    waker_.join();
  }
}

}  // namespace lattice::fuse
