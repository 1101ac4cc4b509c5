#include "sync/leaf_cache.h"

namespace lattice::kernel::sync {

LeafCache::Items LeafCache::Find(const std::string& key, uint64_t count) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.items->size() != count) return nullptr;
  recency_.splice(recency_.begin(), recency_, it->second.position);
  return it->second.items;
}

void LeafCache::Store(const std::string& key, Items items) {
  if (items == nullptr || items->size() > max_items_) return;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    items_ -= it->second.items->size();
    recency_.splice(recency_.begin(), recency_, it->second.position);
    it->second.items = std::move(items);
  } else {
    recency_.push_front(key);
    it = entries_.emplace(key, Entry{std::move(items), recency_.begin()}).first;
  }
  items_ += it->second.items->size();
  while (items_ > max_items_) {
    auto oldest = entries_.find(recency_.back());
    items_ -= oldest->second.items->size();
    entries_.erase(oldest);
    recency_.pop_back();
  }
}

void LeafCache::Clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  recency_.clear();
  items_ = 0;
}

}  // namespace lattice::kernel::sync
