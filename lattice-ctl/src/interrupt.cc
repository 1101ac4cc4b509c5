#include "interrupt.h"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace lattice::ctl {
namespace {

// Never destroyed: the signal thread may still be waiting while the process exits.
struct InterruptState {
  std::mutex mu;
  std::function<void()> hook;
  bool interrupted = false;
};

InterruptState& State() {
  static auto* state = new InterruptState();
  return *state;
}

sigset_t InterruptSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

void WaitForSignals(sigset_t signals) {
  while (true) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    InterruptState& state = State();
    std::lock_guard<std::mutex> lock(state.mu);
    if (!state.hook || state.interrupted) std::_Exit(128 + signal_number);
    state.interrupted = true;
    // Under the lock, so the hook's owner cannot go away while it runs.
    state.hook();
  }
}

}  // namespace

void InstallInterruptHandling() {
  // A shell starts background jobs with SIGINT ignored, and an ignored signal is discarded
  // even while blocked; scripts that stop a watch with `kill -INT` must still reach us.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals = InterruptSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread(WaitForSignals, signals).detach();
}

ScopedInterruptHook::ScopedInterruptHook(std::function<void()> on_interrupt) {
  InterruptState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.hook = std::move(on_interrupt);
  state.interrupted = false;
}

ScopedInterruptHook::~ScopedInterruptHook() {
  InterruptState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.hook = nullptr;
}

}  // namespace lattice::ctl
