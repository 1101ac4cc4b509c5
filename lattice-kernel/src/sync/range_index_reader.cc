// RangeIndexReader (range_index.h): descents through the resident levels, then LevelDB.
#include <algorithm>
#include <utility>

#include "lattice/common/status.h"
#include "sync/range_index.h"
#include "sync/trie_layout.h"

namespace lattice::kernel::sync {
namespace {

using trie::BucketRecord;
using trie::ChildIndex;
using trie::Key;

// Children lists and leaves read from the view stay cached for one message up to this many.
constexpr size_t kMaxCachedBuckets = 1 << 16;
// Lists of at most this many items are read as whole leaves, which the cuts and bounds near
// them then find in memory; longer ones are read item by item.
constexpr size_t kMaxItemsListedThroughLeaves = 4 * trie::kLeafCapacity;

ResidentBucket BucketOf(const BucketRecord& record, unsigned index) {
  return ResidentBucket{record.aggregate, nullptr, static_cast<uint8_t>(index), record.split};
}

// Bits of `key` up to its last set bit: a bucket whose depth reaches this holds nothing
// below `key`.
int SignificantBits(const Key& key) {
  for (size_t byte = key.size(); byte-- > 0;) {
    if (key[byte] != 0) return static_cast<int>(8 * byte) + 8 - __builtin_ctz(key[byte]);
  }
  return 0;
}

// The lowest bound of the bucket holding `path`: every item of the bucket lies at or above
// it, every item of the buckets before it below.
Bound EdgeOf(const Key& path) {
  Bound bound;
  for (size_t i = 0; i < 8; ++i) bound.timestamp = (bound.timestamp << 8) | path[i];
  std::copy(path.begin() + 8, path.end(), bound.prefix.begin());
  size_t length = kIdBytes;
  while (length > 0 && bound.prefix[length - 1] == 0) --length;
  bound.prefix_len = static_cast<uint8_t>(length);
  return bound;
}

}  // namespace

RangeIndexReader::RangeIndexReader(const KvReader& kv, RangeIndexOptions options)
    : RangeIndexReader(kv, nullptr, std::move(options)) {}

RangeIndexReader::RangeIndexReader(const KvReader& kv,
                                   std::shared_ptr<const ResidentLevels> resident,
                                   RangeIndexOptions options)
    : kv_(kv),
      options_(std::move(options)),
      resident_(std::move(resident)),
      shared_leaves_(resident_ != nullptr ? resident_->leaves : nullptr) {}

RangeIndexReader::~RangeIndexReader() = default;

absl::StatusOr<const ResidentBucket*> RangeIndexReader::Root() {
  if (!root_loaded_) {
    ++reads_;
    std::string key = trie::NodeKey(options_.prefix, 0, Key{});
    LATTICE_ASSIGN_OR_RETURN(auto raw, kv_.Get(key));
    if (raw.has_value()) {
      LATTICE_ASSIGN_OR_RETURN(BucketRecord record, trie::DecodeRecord(*raw, 0));
      disk_root_ = BucketOf(record, 0);
      if (record.split) child_sets_.emplace(std::move(key), record.children);
    }
    // The levels must show the state this view shows. Items are only ever added, so the
    // root's count names one state of the index.
    if (resident_ != nullptr && !(resident_->root.aggregate == disk_root_.aggregate &&
                                  resident_->root.split == disk_root_.split)) {
      resident_.reset();
    }
    root_loaded_ = true;
  }
  return resident_ != nullptr ? &resident_->root : &disk_root_;
}

absl::StatusOr<bool> RangeIndexReader::UsesResidentLevels() {
  LATTICE_RETURN_IF_ERROR(Root().status());
  return resident_ != nullptr;
}

absl::StatusOr<const ResidentChildren*> RangeIndexReader::ChildrenOf(
    int level, const Key& path, const ResidentBucket& bucket) {
  if (bucket.children != nullptr) return bucket.children.get();
  std::string key = trie::NodeKey(options_.prefix, level, path);
  auto cached = children_cache_.find(key);
  if (cached != children_cache_.end()) return cached->second.get();
  trie::ChildSet child_set{};
  if (auto known = child_sets_.find(key); known != child_sets_.end()) {
    child_set = known->second;
  } else {
    // A split bucket at the deepest resident level: its own record lists its children.
    ++reads_;
    LATTICE_ASSIGN_OR_RETURN(auto raw, kv_.Get(key));
    if (!raw.has_value()) {
      return absl::DataLossError(fmt::format("range index lacks a bucket at level {}", level));
    }
    LATTICE_ASSIGN_OR_RETURN(BucketRecord record, trie::DecodeRecord(*raw, level));
    child_set = record.children;
  }
  auto children = std::make_unique<ResidentChildren>();
  for (unsigned c = 0; c < trie::Fanout(level + 1); ++c) {
    if (!trie::HasChild(child_set, c)) continue;
    Key child_path = path;
    trie::SetChild(&child_path, level + 1, c);
    std::string child_key = trie::NodeKey(options_.prefix, level + 1, child_path);
    ++reads_;
    LATTICE_ASSIGN_OR_RETURN(auto raw, kv_.Get(child_key));
    if (!raw.has_value()) {
      return absl::DataLossError(
          fmt::format("range index bucket at level {} lacks a child it lists", level));
    }
    LATTICE_ASSIGN_OR_RETURN(BucketRecord record, trie::DecodeRecord(*raw, level + 1));
    children->push_back(BucketOf(record, c));
    if (record.split) child_sets_.emplace(std::move(child_key), record.children);
  }
  const ResidentChildren* out = children.get();
  children_cache_.emplace(std::move(key), std::move(children));
  return out;
}

const Leaf* RangeIndexReader::CachedLeaf(const std::string& key, uint64_t count) {
  if (auto cached = leaf_cache_.find(key); cached != leaf_cache_.end()) {
    return cached->second.get();
  }
  if (shared_leaves_ == nullptr) return nullptr;
  LeafCache::Items items = shared_leaves_->Find(key, count);
  if (items == nullptr) return nullptr;
  const Leaf* out = items.get();
  leaf_cache_.emplace(key, std::move(items));
  return out;
}

absl::StatusOr<const Leaf*> RangeIndexReader::LeafItems(const LeafRef& leaf) {
  std::string key = trie::NodeKey(options_.prefix, leaf.level, leaf.path);
  if (const Leaf* cached = CachedLeaf(key, leaf.count)) return cached;
  LATTICE_RETURN_IF_ERROR(ReadLeaves({leaf}));
  return leaf_cache_.at(key).get();
}

absl::Status RangeIndexReader::ReadLeaves(const std::vector<LeafRef>& leaves) {
  size_t first = leaves.size(), last = 0;
  std::vector<std::string> keys(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].count > trie::kMaxLeafScan) {
      return absl::DataLossError(fmt::format("range index leaf at level {} counts {} items",
                                             leaves[i].level, leaves[i].count));
    }
    keys[i] = trie::NodeKey(options_.prefix, leaves[i].level, leaves[i].path);
    if (CachedLeaf(keys[i], leaves[i].count) != nullptr) continue;
    first = std::min(first, i);
    last = i;
  }
  if (first == leaves.size()) return absl::OkStatus();
  // The leaves are consecutive: their records are one range of the leaf table.
  std::string start = trie::LeafKey(options_.prefix, leaves[first].path);
  std::string end =
      trie::BucketLeafRange(options_.prefix, leaves[last].level, leaves[last].path).second;
  ++reads_;
  size_t next = first;
  absl::Status bad;
  LATTICE_RETURN_IF_ERROR(kv_.Scan(start, end, [&](std::string_view k, std::string_view v) {
    if (next > last || k != trie::LeafKey(options_.prefix, leaves[next].path)) {
      bad = absl::DataLossError(fmt::format(
          "range index leaf records do not match the leaves of level {}", leaves[first].level));
      return false;
    }
    std::vector<Item> items;
    items.reserve(leaves[next].count);
    bad = trie::DecodeLeaf(v, leaves[next].level, leaves[next].count, &items);
    if (!bad.ok()) return false;
    auto leaf = std::make_shared<const Leaf>(std::move(items));
    if (shared_leaves_ != nullptr) shared_leaves_->Store(keys[next], leaf);
    leaf_cache_.insert_or_assign(std::move(keys[next]), std::move(leaf));
    ++next;
    // On to the scan's end even after the last leaf: the pinned reader's iterator then
    // stands at the next record, where the next leaf read usually starts, and needs no seek.
    return true;
  }));
  LATTICE_RETURN_IF_ERROR(bad);
  if (next <= last) {
    return absl::DataLossError(fmt::format("range index leaf at level {} has no record",
                                           leaves[next].level));
  }
  return absl::OkStatus();
}

void RangeIndexReader::TrimCache() {
  if (children_cache_.size() + leaf_cache_.size() + child_sets_.size() > kMaxCachedBuckets) {
    children_cache_.clear();
    leaf_cache_.clear();
    child_sets_.clear();
  }
}

absl::StatusOr<Aggregate> RangeIndexReader::Total() {
  LATTICE_ASSIGN_OR_RETURN(const ResidentBucket* root, Root());
  return root->aggregate;
}

absl::StatusOr<RangeIndexReader::KeyDescent> RangeIndexReader::DescendToKey(const Key& target) {
  TrimCache();
  LATTICE_ASSIGN_OR_RETURN(const ResidentBucket* bucket, Root());
  KeyDescent out;
  const int target_bits = SignificantBits(target);
  Key path{};
  int level = 0;
  while (true) {
    // The key is this bucket's edge: nothing in it lies below (the cuts of CutNear).
    if (trie::DepthBits(level) >= target_bits || bucket->aggregate.count == 0) return out;
    if (!bucket->split) break;
    LATTICE_ASSIGN_OR_RETURN(const ResidentChildren* children, ChildrenOf(level, path, *bucket));
    unsigned index = ChildIndex(target, level + 1);
    auto at = std::partition_point(children->begin(), children->end(),
                                   [&](const ResidentBucket& c) { return c.index < index; });
    // The children left of `index` add up to the bucket less those from `index` on: add
    // whichever side has fewer.
    if (at - children->begin() <= children->end() - at) {
      for (auto c = children->begin(); c != at; ++c) out.below.Add(c->aggregate);
    } else {
      Aggregate from_index;
      for (auto c = at; c != children->end(); ++c) from_index.Add(c->aggregate);
      if (from_index.count > bucket->aggregate.count) {
        return absl::DataLossError("range index bucket counts disagree with their children");
      }
      out.below.Add(Aggregate::Difference(bucket->aggregate, from_index));
    }
    if (at == children->end() || at->index != index) return out;
    ++level;
    trie::SetChild(&path, level, index);
    bucket = &*at;
  }
  out.leaf = LeafRef{level, path, bucket->aggregate.count};
  return out;
}

absl::StatusOr<Aggregate> RangeIndexReader::Below(const Bound& bound) {
  if (bound.is_infinity()) return Total();
  LATTICE_ASSIGN_OR_RETURN(KeyDescent at, DescendToKey(trie::KeyOfBound(bound)));
  if (!at.leaf.has_value()) return at.below;
  LATTICE_ASSIGN_OR_RETURN(const Leaf* leaf, LeafItems(*at.leaf));
  auto first_above = std::partition_point(leaf->items.begin(), leaf->items.end(),
                                          [&](const Item& item) { return ItemBelow(item, bound); });
  at.below.Add(leaf->Below(static_cast<size_t>(first_above - leaf->items.begin())));
  return at.below;
}

absl::StatusOr<RangeIndexReader::RankDescent> RangeIndexReader::DescendToRank(
    uint64_t rank, std::optional<RankWindow> window) {
  TrimCache();
  LATTICE_ASSIGN_OR_RETURN(const ResidentBucket* bucket, Root());
  if (rank >= bucket->aggregate.count) {
    return absl::OutOfRangeError(fmt::format("rank {} is beyond the indexed set", rank));
  }
  const uint64_t target = rank;
  RankDescent at;
  // Each bucket the descent enters offers two edges near the rank: its own, and the next
  // sibling's, where it ends.
  auto consider = [&](const Aggregate& below, const Key& path) {
    if (!window.has_value() || below.count < window->lowest || below.count > window->highest) {
      return;
    }
    uint64_t distance = below.count > target ? below.count - target : target - below.count;
    if (!at.edge.has_value() || distance < at.edge_distance) {
      at.edge = CutPoint{EdgeOf(path), below};
      at.edge_distance = distance;
    }
  };
  Key path{};
  int level = 0;
  while (bucket->split) {
    LATTICE_ASSIGN_OR_RETURN(const ResidentChildren* children, ChildrenOf(level, path, *bucket));
    auto next = children->end();
    if (rank < bucket->aggregate.count / 2) {
      // From the left: skip whole children until the rank falls inside one.
      for (auto child = children->begin(); child != children->end(); ++child) {
        if (rank < child->aggregate.count) {
          next = child;
          break;
        }
        rank -= child->aggregate.count;
        at.before.Add(child->aggregate);
      }
    } else {
      // From the right, counting the items at or after the rank.
      uint64_t from_end = bucket->aggregate.count - rank;
      Aggregate after;
      for (auto child = children->end(); child != children->begin();) {
        --child;
        after.Add(child->aggregate);
        if (from_end <= child->aggregate.count) {
          next = child;
          rank = child->aggregate.count - from_end;
          break;
        }
        from_end -= child->aggregate.count;
      }
      if (next != children->end()) {
        if (after.count > bucket->aggregate.count) next = children->end();
        else at.before.Add(Aggregate::Difference(bucket->aggregate, after));
      }
    }
    if (next == children->end()) {
      return absl::DataLossError("range index bucket counts disagree with their children");
    }
    Key sibling_path = path;
    ++level;
    trie::SetChild(&path, level, next->index);
    consider(at.before, path);
    if (auto sibling = next + 1; sibling != children->end() && window.has_value()) {
      Aggregate through = at.before;
      through.Add(next->aggregate);
      trie::SetChild(&sibling_path, level, sibling->index);
      consider(through, sibling_path);
    }
    bucket = &*next;
  }
  at.leaf = LeafRef{level, path, bucket->aggregate.count};
  at.rank = rank;
  return at;
}

absl::StatusOr<RankedItem> RangeIndexReader::AtRank(uint64_t rank) {
  LATTICE_ASSIGN_OR_RETURN(RankDescent at, DescendToRank(rank, std::nullopt));
  LATTICE_ASSIGN_OR_RETURN(const Leaf* leaf, LeafItems(at.leaf));
  at.before.Add(leaf->Below(at.rank));
  RankedItem out{leaf->items[at.rank], at.before, std::nullopt};
  if (at.rank > 0) out.previous = leaf->items[at.rank - 1];
  return out;
}

absl::StatusOr<CutPoint> RangeIndexReader::CutNear(uint64_t rank, uint64_t lowest,
                                                   uint64_t highest) {
  LATTICE_ASSIGN_OR_RETURN(RankDescent at, DescendToRank(rank, RankWindow{lowest, highest}));
  // An edge needs no items on either side: this one cuts there, and the peer's Below of
  // the bound ends there too.
  if (at.edge.has_value()) return *at.edge;
  if (at.rank == 0) return CutPoint{EdgeOf(at.leaf.path), at.before};
  LATTICE_ASSIGN_OR_RETURN(const Leaf* leaf, LeafItems(at.leaf));
  at.before.Add(leaf->Below(at.rank));
  return CutPoint{Bound::Between(leaf->items[at.rank - 1], leaf->items[at.rank]), at.before};
}

absl::Status RangeIndexReader::ItemsIn(const Bound& lower, const Bound& upper, size_t limit,
                                       std::vector<Item>* out) {
  if (limit == 0 || lower.is_infinity() || !(lower < upper)) return absl::OkStatus();
  LATTICE_ASSIGN_OR_RETURN(bool resident, UsesResidentLevels());
  if (resident && limit <= kMaxItemsListedThroughLeaves) {
    return ItemsInLeaves(lower, upper, limit, out);
  }
  // From the leaf holding `lower` (a descent that ends on an edge has every item at or
  // above `lower` in the leaves from there on), to the leaves from `upper` on, which hold
  // nothing below it.
  LATTICE_ASSIGN_OR_RETURN(KeyDescent from, DescendToKey(trie::KeyOfBound(lower)));
  std::string start = trie::LeafKey(options_.prefix, from.leaf.has_value()
                                                         ? from.leaf->path
                                                         : trie::KeyOfBound(lower));
  std::string end = upper.is_infinity() ? trie::LeafTableEnd(options_.prefix)
                                        : trie::LeafKey(options_.prefix, trie::KeyOfBound(upper));
  ++reads_;
  std::vector<Item> items;
  absl::Status bad;
  LATTICE_RETURN_IF_ERROR(kv_.Scan(start, end, [&](std::string_view, std::string_view v) {
    items.clear();
    bad = trie::DecodeLeaf(v, &items);
    if (!bad.ok()) return false;
    for (const Item& item : items) {
      if (ItemBelow(item, lower)) continue;
      if (!ItemBelow(item, upper)) return false;
      out->push_back(item);
      if (--limit == 0) return false;
    }
    return true;
  }));
  return bad;
}

absl::Status RangeIndexReader::ItemsInLeaves(const Bound& lower, const Bound& upper,
                                             size_t limit, std::vector<Item>* out) {
  // The leaves from the one holding `lower` on, until they hold `limit` items at or above
  // it or reach `upper`: found in memory, then read in one scan, and kept for the cuts and
  // bounds near them that usually follow (a range listed or tested holds a difference).
  LATTICE_ASSIGN_OR_RETURN(KeyDescent from, DescendToKey(trie::KeyOfBound(lower)));
  LATTICE_ASSIGN_OR_RETURN(Aggregate total, Total());
  uint64_t end_rank = total.count;
  if (!upper.is_infinity()) {
    LATTICE_ASSIGN_OR_RETURN(KeyDescent to, DescendToKey(trie::KeyOfBound(upper)));
    end_rank = to.below.count + (to.leaf.has_value() ? to.leaf->count : 0);
  }
  uint64_t rank = from.below.count;
  end_rank = std::min<uint64_t>(
      end_rank, rank + limit + (from.leaf.has_value() ? from.leaf->count : 0));
  std::vector<LeafRef> leaves;
  while (rank < end_rank) {
    LATTICE_ASSIGN_OR_RETURN(RankDescent at, DescendToRank(rank, std::nullopt));
    rank += at.leaf.count - at.rank;
    leaves.push_back(at.leaf);
  }
  LATTICE_RETURN_IF_ERROR(ReadLeaves(leaves));
  for (const LeafRef& leaf : leaves) {
    LATTICE_ASSIGN_OR_RETURN(const Leaf* read, LeafItems(leaf));
    for (const Item& item : read->items) {
      if (ItemBelow(item, lower)) continue;
      if (!ItemBelow(item, upper) || limit == 0) return absl::OkStatus();
      out->push_back(item);
      --limit;
    }
  }
  return absl::OkStatus();
}

}  // namespace lattice::kernel::sync
