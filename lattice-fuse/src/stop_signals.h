// SIGTERM, SIGINT and SIGHUP unmount lattice-fuse, whichever of its threads takes them.
//
// libfuse's own handlers (fuse_set_signal_handlers, 3.14 as in Debian 12) only set the
// session's exit flag. fuse_session_loop_mt's thread sleeps in sem_wait() until a worker
// finishes, and its workers sleep in read() on /dev/fuse with the signals blocked, so the flag
// is seen at once only when the signal interrupts that sem_wait. Taken by any other thread
// (gRPC's, the watcher's, the write-back threads'), or landing just before the sem_wait,
// it leaves the folder mounted until the next file system request, which may never come
// (libfuse issue #997, fixed only in 3.18). Here the handler also wakes a thread of ours
// that interrupts the loop's thread with SIGUSR1 until the loop has returned.
#pragma once

#include <fuse_lowlevel.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lattice::fuse {

class StopSignals {
 public:
  // Installs the handlers for `session`, whose fuse_session_loop_mt runs in the calling
  // thread. Only one instance at a time: the handlers are process-wide.
  explicit StopSignals(fuse_session* session);
  // Restores the default handlers, as after LoopReturned().
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Call as soon as fuse_session_loop_mt has returned: no SIGUSR1 is sent after this.
  void LoopReturned();

  // The signal that ended the loop, 0 when it ended otherwise (an unmount from outside).
  int signal_taken() const { return taken_.load(); }

 private:
  static void OnStopSignal(int signal);
  void RunWaker();

  fuse_session* session_;
  pthread_t loop_thread_;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<int> taken_{0};
  std::mutex mu_;
  std::condition_variable loop_returned_cv_;
  bool loop_returned_ = false;
  std::thread waker_;
};

}  // namespace lattice::fuse
