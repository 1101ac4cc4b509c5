#include "sync/range_index.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>

#include "lattice/common/status.h"

namespace lattice::kernel::sync {
namespace {

// Levels 0 (the root, all items) to 76 (all 320 bits of the key).
constexpr int kLevels = 77;
constexpr size_t kKeyBytes = 8 + kIdBytes;
// Bucket records parsed from the view stay cached for one message up to this many.
constexpr size_t kMaxCachedBuckets = 1 << 16;
// A leaf scan that finds more items than this means the view is not a consistent state.
constexpr size_t kMaxLeafScan = 16 * RangeIndex::kLeafCapacity;
constexpr uint8_t kRecordFormat = 0x10;
constexpr uint8_t kSplitFlag = 0x01;

using Key = std::array<uint8_t, kKeyBytes>;

constexpr int DepthBits(int level) { return level <= 4 ? 8 * level : 32 + 4 * (level - 4); }
size_t PathBytes(int level) { return static_cast<size_t>((DepthBits(level) + 7) / 8); }

Key KeyOfItem(const Item& item) {
  Key key{};
  for (int i = 0; i < 8; ++i) key[i] = static_cast<uint8_t>(item.timestamp >> (56 - 8 * i));
  std::memcpy(key.data() + 8, item.id.data(), kIdBytes);
  return key;
}

Key KeyOfBound(const Bound& bound) { return KeyOfItem(Item{bound.timestamp, bound.prefix}); }

Item ItemOfKey(std::string_view bytes) {
  Item item;
  for (int i = 0; i < 8; ++i) item.timestamp = (item.timestamp << 8) | static_cast<uint8_t>(bytes[i]);
  std::memcpy(item.id.data(), bytes.data() + 8, kIdBytes);
  return item;
}

Key MaskTo(const Key& key, int bits) {
  Key out{};
  size_t whole = static_cast<size_t>(bits / 8);
  std::memcpy(out.data(), key.data(), whole);
  if (bits % 8) out[whole] = key[whole] & static_cast<uint8_t>(0xff << (8 - bits % 8));
  return out;
}

// The index of the child at `child_level` that `key` falls in.
unsigned ChildIndex(const Key& key, int child_level) {
  int depth = DepthBits(child_level - 1);
  uint8_t byte = key[static_cast<size_t>(depth / 8)];
  if (child_level <= 4) return byte;
  return depth % 8 == 0 ? byte >> 4 : byte & 0x0f;
}


// REQUIRES: `path` has zero bits from DepthBits(child_level - 1) on.
void SetChild(Key* path, int child_level, unsigned child) {
  int depth = DepthBits(child_level - 1);
  uint8_t& byte = (*path)[static_cast<size_t>(depth / 8)];
  if (child_level <= 4) {
    byte = static_cast<uint8_t>(child);
  } else if (depth % 8 == 0) {
    byte = static_cast<uint8_t>(child << 4);
  } else {
    byte = static_cast<uint8_t>(byte | child);
  }
}

std::string NodeKey(const std::string& prefix, int level, const Key& path) {
  std::string key = prefix;
  key.push_back('a');
  key.push_back(static_cast<char>(level));
  key.append(reinterpret_cast<const char*>(path.data()), PathBytes(level));
  return key;
}

std::string ItemKey(const std::string& prefix, const Key& key) {
  std::string out = prefix;
  out.push_back('i');
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  return out;
}

std::string ItemTableEnd(const std::string& prefix) { return prefix + "j"; }

// The item keys [start, end) of the bucket at `level` holding `path`.
std::pair<std::string, std::string> BucketItemRange(const std::string& prefix, int level,
                                                    const Key& path) {
  std::string start = ItemKey(prefix, path);
  int depth = DepthBits(level);
  if (depth == 0) return {start, ItemTableEnd(prefix)};
  Key end = path;
  size_t byte = static_cast<size_t>((depth - 1) / 8);
  unsigned carry = 1u << (7 - (depth - 1) % 8);
  while (true) {
    unsigned sum = end[byte] + carry;
    end[byte] = static_cast<uint8_t>(sum);
    if (sum <= 0xff) break;
    if (byte == 0) return {start, ItemTableEnd(prefix)};
    carry = 1;
    --byte;
  }
  return {start, ItemKey(prefix, end)};
}

unsigned Fanout(int child_level) { return child_level <= 4 ? 256 : 16; }

// Which children of a split bucket exist, one bit per child index.
using ChildSet = std::array<uint64_t, 4>;
bool HasChild(const ChildSet& set, unsigned child) { return (set[child / 64] >> (child % 64)) & 1; }
void AddChild(ChildSet* set, unsigned child) { (*set)[child / 64] |= uint64_t{1} << (child % 64); }

struct BucketRecord {
  bool split = false;
  Aggregate aggregate;
  ChildSet children{};  // split buckets only
};

// flags (format | split), varint count, 32-byte sum, and for a split bucket the bitmap of
// its children (2 bytes, or 32 for the byte levels): readers fetch children by key, which
// stays fast however many overwritten versions of hot buckets LevelDB still holds.
std::string EncodeRecord(const BucketRecord& record, int level) {
  std::string out;
  out.push_back(static_cast<char>(kRecordFormat | (record.split ? kSplitFlag : 0)));
  AppendVarint(&out, record.aggregate.count);
  ItemId sum = record.aggregate.sum.Bytes();
  out.append(IdBytes(sum));
  if (record.split) {
    for (unsigned byte = 0; byte < Fanout(level + 1) / 8; ++byte) {
      out.push_back(static_cast<char>(record.children[byte / 8] >> (8 * (byte % 8))));
    }
  }
  return out;
}

absl::StatusOr<BucketRecord> DecodeRecord(std::string_view value, int level) {
  if (value.empty() || (static_cast<uint8_t>(value[0]) & 0xf0) != kRecordFormat) {
    return absl::DataLossError("range index bucket record has an unknown format");
  }
  BucketRecord record;
  record.split = (static_cast<uint8_t>(value[0]) & kSplitFlag) != 0;
  value.remove_prefix(1);
  auto count = ReadVarint(&value);
  size_t bitmap_bytes = record.split ? Fanout(level + 1) / 8 : 0;
  if (!count.ok() || value.size() != kIdBytes + bitmap_bytes) {
    return absl::DataLossError("range index bucket record is truncated");
  }
  record.aggregate.count = *count;
  record.aggregate.sum = IdSum::FromBytes(IdFromBytes(value.substr(0, kIdBytes)));
  for (size_t byte = 0; byte < bitmap_bytes; ++byte) {
    record.children[byte / 8] |= uint64_t{static_cast<uint8_t>(value[kIdBytes + byte])}
                                 << (8 * (byte % 8));
  }
  return record;
}

// Writes the children of a bucket at `level` that is being split, from its sorted items,
// and returns which children exist.
ChildSet WriteChildren(KvWriter& batch, const std::string& prefix, int level,
                       std::span<const Item> items) {
  ChildSet created{};
  size_t begin = 0;
  while (begin < items.size()) {
    Key first = KeyOfItem(items[begin]);
    unsigned child = ChildIndex(first, level + 1);
    size_t end = begin + 1;
    while (end < items.size() && ChildIndex(KeyOfItem(items[end]), level + 1) == child) ++end;
    BucketRecord record;
    for (size_t i = begin; i < end; ++i) record.aggregate.Add(items[i]);
    record.split = record.aggregate.count > RangeIndex::kLeafCapacity && level + 2 < kLevels;
    if (record.split) {
      record.children = WriteChildren(batch, prefix, level + 1, items.subspan(begin, end - begin));
    }
    batch.Put(NodeKey(prefix, level + 1, MaskTo(first, DepthBits(level + 1))),
              EncodeRecord(record, level + 1));
    AddChild(&created, child);
    begin = end;
  }
  return created;
}

}  // namespace

absl::Status RangeIndex::Add(KvWriter& batch, uint64_t timestamp, const ItemId& id) const {
  return Insert(batch, timestamp, id, /*may_be_present=*/true);
}

absl::Status RangeIndex::AddNew(KvWriter& batch, uint64_t timestamp, const ItemId& id) const {
  return Insert(batch, timestamp, id, /*may_be_present=*/false);
}

absl::Status RangeIndex::Insert(KvWriter& batch, uint64_t timestamp, const ItemId& id,
                                bool may_be_present) const {
  const std::string& prefix = options_.prefix;
  Item item{std::min(timestamp, kMaxItemTimestamp), id};
  Key key = KeyOfItem(item);
  std::string item_key = ItemKey(prefix, key);
  if (may_be_present) {
    LATTICE_ASSIGN_OR_RETURN(auto existing, batch.Get(item_key));
    if (existing.has_value()) return absl::OkStatus();
  }
  batch.Put(item_key, "");

  for (int level = 0; level < kLevels; ++level) {
    Key path = MaskTo(key, DepthBits(level));
    std::string node_key = NodeKey(prefix, level, path);
    LATTICE_ASSIGN_OR_RETURN(auto raw, batch.Get(node_key));
    BucketRecord record;
    if (raw.has_value()) {
      LATTICE_ASSIGN_OR_RETURN(record, DecodeRecord(*raw, level));
    }
    record.aggregate.Add(item);
    if (record.split) {
      AddChild(&record.children, ChildIndex(key, level + 1));
      batch.Put(node_key, EncodeRecord(record, level));
      continue;
    }
    if (record.aggregate.count > kLeafCapacity && level + 1 < kLevels) {
      // The leaf overflows: write its children from its items (the new one included).
      std::vector<Item> items;
      auto [start, end] = BucketItemRange(prefix, level, path);
      LATTICE_RETURN_IF_ERROR(batch.Scan(start, end, [&](std::string_view k, std::string_view) {
        items.push_back(ItemOfKey(k.substr(prefix.size() + 1)));
        return items.size() <= kMaxLeafScan;
      }));
      if (items.size() != record.aggregate.count) {
        return absl::DataLossError(fmt::format(
            "range index bucket at level {} counts {} items but holds {}", level,
            record.aggregate.count, items.size()));
      }
      record.children = WriteChildren(batch, prefix, level, items);
      record.split = true;
    }
    batch.Put(node_key, EncodeRecord(record, level));
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

struct RangeIndexReader::Node {
  bool split = false;
  Aggregate aggregate;
  ChildSet children{};
};

RangeIndexReader::RangeIndexReader(const KvReader& kv, RangeIndexOptions options)
    : kv_(kv), options_(std::move(options)) {}

RangeIndexReader::~RangeIndexReader() = default;

absl::StatusOr<const RangeIndexReader::Node*> RangeIndexReader::Root() {
  if (!root_loaded_) {
    ++reads_;
    LATTICE_ASSIGN_OR_RETURN(auto raw, kv_.Get(NodeKey(options_.prefix, 0, Key{})));
    if (raw.has_value()) {
      LATTICE_ASSIGN_OR_RETURN(BucketRecord record, DecodeRecord(*raw, 0));
      root_ = std::make_unique<Node>(Node{record.split, record.aggregate, record.children});
    }
    root_loaded_ = true;
  }
  return root_.get();
}

absl::StatusOr<const RangeIndexReader::Node*> RangeIndexReader::ChildOf(int level,
                                                                        const Key& path,
                                                                        unsigned child) {
  Key child_path = path;
  SetChild(&child_path, level + 1, child);
  std::string key = NodeKey(options_.prefix, level + 1, child_path);
  auto cached = node_cache_.find(key);
  if (cached != node_cache_.end()) return cached->second.get();
  ++reads_;
  LATTICE_ASSIGN_OR_RETURN(auto raw, kv_.Get(key));
  if (!raw.has_value()) {
    return absl::DataLossError(
        fmt::format("range index bucket at level {} lacks a child it lists", level));
  }
  LATTICE_ASSIGN_OR_RETURN(BucketRecord record, DecodeRecord(*raw, level + 1));
  auto node = std::make_unique<Node>(Node{record.split, record.aggregate, record.children});
  const Node* out = node.get();
  node_cache_.emplace(std::move(key), std::move(node));
  return out;
}

absl::StatusOr<const std::vector<Item>*> RangeIndexReader::LeafItems(int level,
                                                                     const Key& path) {
  std::string path_key = NodeKey(options_.prefix, level, path);
  auto cached = leaf_cache_.find(path_key);
  if (cached != leaf_cache_.end()) return cached->second.get();
  auto [start, end] = BucketItemRange(options_.prefix, level, path);
  auto items = std::make_unique<std::vector<Item>>();
  ++reads_;
  size_t skip = options_.prefix.size() + 1;
  LATTICE_RETURN_IF_ERROR(kv_.Scan(start, end, [&](std::string_view k, std::string_view) {
    items->push_back(ItemOfKey(k.substr(skip)));
    return items->size() <= kMaxLeafScan;
  }));
  if (items->size() > kMaxLeafScan) {
    return absl::DataLossError(
        fmt::format("range index leaf at level {} holds more than {} items", level, kMaxLeafScan));
  }
  const std::vector<Item>* out = items.get();
  leaf_cache_.emplace(std::move(path_key), std::move(items));
  return out;
}

void RangeIndexReader::TrimCache() {
  if (node_cache_.size() + leaf_cache_.size() > kMaxCachedBuckets) {
    node_cache_.clear();
    leaf_cache_.clear();
  }
}

absl::StatusOr<Aggregate> RangeIndexReader::Total() {
  LATTICE_ASSIGN_OR_RETURN(const Node* root, Root());
  return root == nullptr ? Aggregate() : root->aggregate;
}

absl::StatusOr<Aggregate> RangeIndexReader::Below(const Bound& bound) {
  TrimCache();
  if (bound.is_infinity()) return Total();
  LATTICE_ASSIGN_OR_RETURN(const Node* root, Root());
  Aggregate below;
  if (root == nullptr) return below;
  Key target = KeyOfBound(bound);
  Key path{};
  int level = 0;
  const Node* node = root;
  while (node->split) {
    unsigned index = ChildIndex(target, level + 1);
    unsigned fanout = Fanout(level + 1);
    // The children left of `index` add up to the bucket less those from `index` on:
    // read whichever side has fewer children.
    unsigned left = 0, right = 0;
    for (unsigned c = 0; c < fanout; ++c) {
      if (HasChild(node->children, c)) (c < index ? left : right) += 1;
    }
    const Node* next = nullptr;
    if (HasChild(node->children, index)) {
      LATTICE_ASSIGN_OR_RETURN(next, ChildOf(level, path, index));
    }
    if (left <= right) {
      for (unsigned c = 0; c < index; ++c) {
        if (!HasChild(node->children, c)) continue;
        LATTICE_ASSIGN_OR_RETURN(const Node* child, ChildOf(level, path, c));
        below.Add(child->aggregate);
      }
    } else {
      Aggregate from_index;
      for (unsigned c = index; c < fanout; ++c) {
        if (!HasChild(node->children, c)) continue;
        LATTICE_ASSIGN_OR_RETURN(const Node* child, ChildOf(level, path, c));
        from_index.Add(child->aggregate);
      }
      if (from_index.count > node->aggregate.count) {
        return absl::DataLossError("range index bucket counts disagree with their children");
      }
      below.Add(Aggregate::Difference(node->aggregate, from_index));
    }
    if (next == nullptr) return below;
    ++level;
    SetChild(&path, level, index);
    node = next;
  }
  LATTICE_ASSIGN_OR_RETURN(const std::vector<Item>* items, LeafItems(level, path));
  for (const Item& item : *items) {
    if (!ItemBelow(item, bound)) break;
    below.Add(item);
  }
  return below;
}

absl::StatusOr<RankedItem> RangeIndexReader::AtRank(uint64_t rank) {
  TrimCache();
  LATTICE_ASSIGN_OR_RETURN(const Node* root, Root());
  if (root == nullptr || rank >= root->aggregate.count) {
    return absl::OutOfRangeError(fmt::format("rank {} is beyond the indexed set", rank));
  }
  Aggregate before;
  Key path{};
  int level = 0;
  const Node* node = root;
  while (node->split) {
    unsigned fanout = Fanout(level + 1);
    const Node* next = nullptr;
    unsigned next_index = 0;
    if (rank < node->aggregate.count / 2) {
      // From the left: skip whole children until the rank falls inside one.
      for (unsigned c = 0; c < fanout && next == nullptr; ++c) {
        if (!HasChild(node->children, c)) continue;
        LATTICE_ASSIGN_OR_RETURN(const Node* child, ChildOf(level, path, c));
        if (rank < child->aggregate.count) {
          next = child;
          next_index = c;
        } else {
          rank -= child->aggregate.count;
          before.Add(child->aggregate);
        }
      }
    } else {
      // From the right, counting the items at or after the rank.
      uint64_t from_end = node->aggregate.count - rank;
      Aggregate after;
      for (unsigned c = fanout; c-- > 0 && next == nullptr;) {
        if (!HasChild(node->children, c)) continue;
        LATTICE_ASSIGN_OR_RETURN(const Node* child, ChildOf(level, path, c));
        if (from_end <= child->aggregate.count) {
          next = child;
          next_index = c;
          rank = child->aggregate.count - from_end;
          after.Add(child->aggregate);
        } else {
          from_end -= child->aggregate.count;
          after.Add(child->aggregate);
        }
      }
      if (next != nullptr) {
        if (after.count > node->aggregate.count) next = nullptr;
        else before.Add(Aggregate::Difference(node->aggregate, after));
      }
    }
    if (next == nullptr) {
      return absl::DataLossError("range index bucket counts disagree with their children");
    }
    ++level;
    SetChild(&path, level, next_index);
    node = next;
  }
  LATTICE_ASSIGN_OR_RETURN(const std::vector<Item>* items, LeafItems(level, path));
  if (rank >= items->size()) {
    return absl::DataLossError("range index leaf holds fewer items than it counts");
  }
  for (uint64_t i = 0; i < rank; ++i) before.Add((*items)[i]);
  RankedItem out{(*items)[rank], before, std::nullopt};
  if (rank > 0) out.previous = (*items)[rank - 1];
  return out;
}

absl::Status RangeIndexReader::ItemsIn(const Bound& lower, const Bound& upper, size_t limit,
                                       std::vector<Item>* out) {
  if (limit == 0 || lower.is_infinity() || !(lower < upper)) return absl::OkStatus();
  std::string start = ItemKey(options_.prefix, KeyOfBound(lower));
  std::string end = upper.is_infinity() ? ItemTableEnd(options_.prefix)
                                        : ItemKey(options_.prefix, KeyOfBound(upper));
  ++reads_;
  size_t skip = options_.prefix.size() + 1;
  return kv_.Scan(start, end, [&](std::string_view k, std::string_view) {
    out->push_back(ItemOfKey(k.substr(skip)));
    return --limit > 0;
  });
}

}  // namespace lattice::kernel::sync
