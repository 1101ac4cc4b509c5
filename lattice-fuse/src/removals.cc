#include "src/removals.h"

namespace lattice::fuse {

Removals::Removals(SendFn send, int threads, size_t max_queued, size_t max_batch,
                   std::chrono::milliseconds linger)
    : send_(std::move(send)) {
  // The write-back queue batches ids with its linger, drain and stop; an id stands for one
  // removal here.
  queue_ = std::make_unique<WriteBack>([this](const std::vector<uint64_t>& ids) { SendBatch(ids); },
                                       threads, max_queued, max_batch, linger);
}

Removals::~Removals() { Stop(); }

bool Removals::Queue(uint64_t parent, const std::string& name, uint64_t ino) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto [at, fresh] = by_name_.try_emplace({parent, name}, 0);
    if (!fresh) return true;  // already on its way
    id = ++next_id_;
    at->second = id;
    by_id_[id] = Removal{parent, name, ino};
    by_parent_[parent]++;
  }
  if (queue_->Queue(id)) return true;
  std::lock_guard lock(mu_);
  Forget(id);
  return false;
}

bool Removals::Pending(uint64_t parent, const std::string& name) const {
  std::lock_guard lock(mu_);
  return by_name_.contains({parent, name});
}

bool Removals::PendingIn(uint64_t parent) const {
  std::lock_guard lock(mu_);
  return by_parent_.contains(parent);
}

bool Removals::Empty() const {
  std::lock_guard lock(mu_);
  return by_id_.empty();
}

uint64_t Removals::Finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

void Removals::Drain() { queue_->Drain(); }

void Removals::Stop() { queue_->Stop(); }

void Removals::SendBatch(const std::vector<uint64_t>& ids) {
  std::vector<Removal> batch;
  {
    std::lock_guard lock(mu_);
    for (uint64_t id : ids) {
      auto it = by_id_.find(id);
      if (it != by_id_.end()) batch.push_back(it->second);
    }
  }
  if (!batch.empty()) send_(batch);
  // Shown as gone here until the kernel shows it gone too.
  std::lock_guard lock(mu_);
  for (uint64_t id : ids) Forget(id);
}

void Removals::Forget(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  by_name_.erase({it->second.parent, it->second.name});
  auto parent = by_parent_.find(it->second.parent);
  if (--parent->second == 0) by_parent_.erase(parent);
  by_id_.erase(it);
  ++finished_;
}

}  // namespace lattice::fuse
