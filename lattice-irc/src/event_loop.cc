// The epoll event loop (see event_loop.h).
#include "event_loop.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "lattice/common/files.h"

namespace lattice::irc {

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return ErrnoStatus(errno, "epoll_create1");
  int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    int err = errno;
    ::close(epoll_fd);
    return ErrnoStatus(err, "eventfd");
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, wake_fd));
  absl::Status added = loop->Add(wake_fd, EPOLLIN, [raw = loop.get()](uint32_t) {
    uint64_t count;
    while (::read(raw->wake_fd_, &count, sizeof count) > 0) {
    }
  });
  if (!added.ok()) return added;
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

int64_t EventLoop::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::Status EventLoop::Add(int fd, uint32_t events, IoCallback callback) {
  auto watch = std::make_shared<Watch>(Watch{next_token_++, std::move(callback)});
  epoll_event event{};
  event.events = events;
  event.data.u64 = watch->token;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return ErrnoStatus(errno, fmt::format("epoll_ctl(ADD, fd {})", fd));
  }
  by_token_[watch->token] = watch;
  watches_[fd] = std::move(watch);
  return absl::OkStatus();
}

absl::Status EventLoop::Modify(int fd, uint32_t events) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return absl::NotFoundError(fmt::format("fd {} is not watched", fd));
  epoll_event event{};
  event.events = events;
  event.data.u64 = it->second->token;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) {
    return ErrnoStatus(errno, fmt::format("epoll_ctl(MOD, fd {})", fd));
  }
  return absl::OkStatus();
}

void EventLoop::Remove(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  by_token_.erase(it->second->token);
  watches_.erase(it);
}

EventLoop::TimerId EventLoop::RunAt(int64_t when_ms, Task task) {
  TimerId id = next_timer_++;
  timers_.emplace(id, std::make_pair(when_ms, std::move(task)));
  timer_order_.emplace(when_ms, id);
  return id;
}

void EventLoop::Cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = timer_order_.equal_range(it->second.first);
  for (auto order = range.first; order != range.second; ++order) {
    if (order->second == id) {
      timer_order_.erase(order);
      break;
    }
  }
  timers_.erase(it);
}

void EventLoop::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  // A full eventfd counter still wakes the loop; nothing to handle.
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::RunPostedTasks() {
  std::deque<Task> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::RunDueTimers() {
  int64_t now = NowMs();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    TimerId id = timer_order_.begin()->second;
    timer_order_.erase(timer_order_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    Task task = std::move(it->second.second);
    timers_.erase(it);
    task();
  }
}

void EventLoop::Run(const Task& after_round) {
  constexpr int kMaxEvents = 256;
  std::vector<epoll_event> events(kMaxEvents);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    int timeout = -1;
    if (!timer_order_.empty()) {
      int64_t wait = timer_order_.begin()->first - NowMs();
      timeout = static_cast<int>(std::clamp<int64_t>(wait, 0, 60'000));
    }
    int n = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      // epoll_event is packed on x86-64: copy the token out rather than bind to it.
      uint64_t token = events[i].data.u64;
      auto it = by_token_.find(token);
      if (it == by_token_.end()) continue;  // removed earlier in this round
      std::shared_ptr<Watch> watch = it->second;
      watch->callback(events[i].events);
    }
    RunDueTimers();
    RunPostedTasks();
    if (after_round) after_round();
  }
}

}  // namespace lattice::irc
