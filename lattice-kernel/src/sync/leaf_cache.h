// The items of the range index's leaves that reconciliations read lately, shared by every
// reader of one index: the leaves near a session's differences are read again by its next
// messages, and by sessions with other peers that differ in the same places.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lattice/common/lru_cache.h"
#include "sync/negentropy_codec.h"

namespace lattice::kernel::sync {

// A leaf's items in order, with the id sum of each of its prefixes: a reconciliation asks
// what lies below many positions of the same leaf (its cuts, the peer's bounds, ranks), and
// each answer is then one lookup instead of a sum over the items before it.
struct Leaf {
  explicit Leaf(std::vector<Item> leaf_items) : items(std::move(leaf_items)) {
    sums.resize(items.size() + 1);
    for (size_t i = 0; i < items.size(); ++i) {
      sums[i + 1] = sums[i];
      sums[i + 1].Add(items[i].id);
    }
  }
  // The count and id sum of items[0, i). REQUIRES: i <= items.size().
  Aggregate Below(size_t i) const { return Aggregate{i, sums[i]}; }

  std::vector<Item> items;
  std::vector<IdSum> sums;  // sums[i] sums the ids of items[0, i)
};

// An entry is a whole leaf as some committed state of the index showed it. A reader takes
// it only when its own state counts as many items in that leaf: a leaf only gains items
// (and is no longer a leaf once it splits), so the same count means the same items.
// Thread-safe; holds at most `max_items` items (least recently used go first).
class LeafCache {
 public:
  using Items = std::shared_ptr<const Leaf>;
  // ~9.4 MB of items and their sums (72 bytes an item): the budget the items alone had.
  static constexpr size_t kDefaultMaxItems = size_t{1} << 17;

  explicit LeafCache(size_t max_items = kDefaultMaxItems) : leaves_(max_items) {}

  // The items of the leaf `key` when the entry holds `count` of them; null otherwise.
  Items Find(const std::string& key, uint64_t count) {
    Items items = leaves_.Find(key);
    return items != nullptr && items->items.size() == count ? items : nullptr;
  }
  void Store(const std::string& key, Items items) {
    if (items != nullptr) leaves_.Put(key, items, items->items.size());
  }
  void Clear() { leaves_.Clear(); }

 private:
  LruCache<std::string, Leaf> leaves_;  // weighed in items
};

}  // namespace lattice::kernel::sync
