// The gateway's one event loop (epoll): socket readiness, timers, and tasks posted from other
// threads (the kernel watch and the kernel workers) through an eventfd. Everything the IRC
// server owns is touched only from callbacks of this loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::irc {

// Run() and every method but Post() and Stop() belong to the loop thread.
class EventLoop {
 public:
  using IoCallback = std::function<void(uint32_t epoll_events)>;
  using Task = std::function<void()>;
  using TimerId = uint64_t;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` (level-triggered) for `events` (EPOLLIN, EPOLLOUT, ...). The callback is
  // never called after Remove(fd), even for events already collected in the same round.
  absl::Status Add(int fd, uint32_t events, IoCallback callback);
  absl::Status Modify(int fd, uint32_t events);
  void Remove(int fd);

  // Runs `task` on the loop at steady time `when_ms` (see NowMs) or soon after.
  TimerId RunAt(int64_t when_ms, Task task);
  void Cancel(TimerId id);

  // Thread-safe: runs `task` on the loop, after the tasks posted before it.
  void Post(Task task);
  // Thread-safe: Run() returns after the current round.
  void Stop();

  // Runs until Stop(). `after_round` runs after every round of events, timers and tasks
  // (the transport flushes its output there).
  void Run(const Task& after_round);

  // Steady milliseconds.
  static int64_t NowMs();

 private:
  EventLoop(int epoll_fd, int wake_fd);
  void RunPostedTasks();
  void RunDueTimers();

  int epoll_fd_;
  int wake_fd_;
  // fd -> (token, callback). epoll carries the token, so a reused fd number never reaches
  // the callback of the fd it replaced.
  struct Watch {
    uint64_t token;
    IoCallback callback;
  };
  std::unordered_map<int, std::shared_ptr<Watch>> watches_;
  std::unordered_map<uint64_t, std::shared_ptr<Watch>> by_token_;
  uint64_t next_token_ = 1;

  std::multimap<int64_t, TimerId> timer_order_;
  std::unordered_map<TimerId, std::pair<int64_t, Task>> timers_;
  TimerId next_timer_ = 1;

  std::mutex mu_;
  std::deque<Task> posted_;
  bool stop_ = false;
};

}  // namespace lattice::irc
