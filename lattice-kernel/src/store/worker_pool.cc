#include "store/worker_pool.h"

#include <algorithm>

namespace lattice::kernel {

WorkerPool::WorkerPool(size_t threads) : max_threads_(std::max<size_t>(threads, 1)) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void WorkerPool::Post(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(work));
    // A thread more only when none is idle to take it.
    if (idle_ == 0 && threads_.size() < max_threads_) threads_.emplace_back([this] { Run(); });
  }
  cv_.notify_one();
}

void WorkerPool::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping, and everything posted has run
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    work();
    lock.lock();
  }
}

}  // namespace lattice::kernel
