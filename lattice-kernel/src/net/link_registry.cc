#include "net/link_registry.h"

#include <algorithm>

namespace lattice::kernel::net {

LinkRegistry::LinkRegistry() : thread_([this] { Run(); }) {}

LinkRegistry::~LinkRegistry() { ShutDown(absl::CancelledError("the transport shut down")); }

bool LinkRegistry::Add(std::shared_ptr<LinkCore> core) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  cores_.push_back(std::move(core));
  cv_.notify_all();
  return true;
}

void LinkRegistry::Wake() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

size_t LinkRegistry::live_links() const {
  std::lock_guard lock(mu_);
  return cores_.size();
}

void LinkRegistry::ShutDown(const absl::Status& reason) {
  std::lock_guard shutdown_lock(shutdown_mu_);
  if (!thread_.joinable()) return;
  std::vector<std::shared_ptr<LinkCore>> cores;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cores = cores_;
  }
  for (auto& core : cores) core->Close(reason);
  cores.clear();
  Wake();
  thread_.join();
}

void LinkRegistry::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    std::vector<std::shared_ptr<LinkCore>> ended;
    std::vector<std::shared_ptr<LinkCore>> overdue;
    Clock::time_point next = Clock::time_point::max();
    Clock::time_point now = Clock::now();
    for (auto it = cores_.begin(); it != cores_.end();) {
      if ((*it)->finished()) {
        ended.push_back(std::move(*it));
        it = cores_.erase(it);
        continue;
      }
      Clock::time_point deadline = (*it)->shutdown_deadline();
      if (deadline <= now) {
        overdue.push_back(*it);
      } else {
        next = std::min(next, deadline);
      }
      ++it;
    }
    if (!ended.empty() || !overdue.empty()) {
      lock.unlock();
      for (auto& core : overdue) core->ShutdownStream();
      for (auto& core : ended) core->JoinReader();
      ended.clear();
      overdue.clear();
      lock.lock();
      continue;
    }
    if (stopping_ && cores_.empty()) break;
    if (next == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next);
    }
  }
}

}  // namespace lattice::kernel::net
