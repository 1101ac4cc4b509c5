// The items of the range index's leaves that reconciliations read lately, shared by every
// reader of one index: the leaves near a session's differences are read again by its next
// messages, and by sessions with other peers that differ in the same places.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sync/negentropy_codec.h"

namespace lattice::kernel::sync {

// An entry is a whole leaf as some committed state of the index showed it. A reader takes
// it only when its own state counts as many items in that leaf: a leaf only gains items
// (and is no longer a leaf once it splits), so the same count means the same items.
// Thread-safe; holds at most `max_items` items (least recently used go first).
class LeafCache {
 public:
  using Items = std::shared_ptr<const std::vector<Item>>;
  static constexpr size_t kDefaultMaxItems = size_t{1} << 18;  // ~10 MB of items

  explicit LeafCache(size_t max_items = kDefaultMaxItems) : max_items_(max_items) {}

  // The items of the leaf `key` when the entry holds `count` of them; null otherwise.
  Items Find(const std::string& key, uint64_t count);
  void Store(const std::string& key, Items items);
  void Clear();

 private:
  struct Entry {
    Items items;
    std::list<std::string>::iterator position;  // in recency_
  };

  const size_t max_items_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // most recent first
  size_t items_ = 0;
};

}  // namespace lattice::kernel::sync
