#include "replication/sync_hold.h"

#include <algorithm>

namespace lattice::kernel::replication {

void SyncHold::Queued(const std::string& store_id, size_t count) {
  std::lock_guard lock(mu_);
  stores_[store_id].queued += count;
}

void SyncHold::Dequeued(const std::string& store_id, size_t count, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Activity& activity = stores_[store_id];
  activity.queued -= std::min(activity.queued, count);
  activity.last_push = std::max(activity.last_push, now);
}

void SyncHold::Pushed(const std::string& store_id, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Activity& activity = stores_[store_id];
  activity.last_push = std::max(activity.last_push, now);
}

bool SyncHold::Holds(const std::string& store_id, Clock::time_point due_since,
                     Clock::time_point now, std::chrono::milliseconds max_hold) const {
  if (now - due_since >= max_hold) return false;
  std::lock_guard lock(mu_);
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return false;
  const Activity& activity = it->second;
  return activity.queued > 0 || now - activity.last_push < settle_;
}

}  // namespace lattice::kernel::replication
