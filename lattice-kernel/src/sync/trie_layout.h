// The range index's trie as it lies in LevelDB (range_index.h describes the design): the bit
// geometry of its levels, the keys of its items and buckets, and the bucket record format.
// Shared by the index's writer and reader and by its resident levels (resident_trie.h).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/negentropy_codec.h"

namespace lattice::kernel::sync::trie {

// Levels 0 (the root, all items) to 76 (all 320 bits of the key).
inline constexpr int kLevels = 77;
inline constexpr size_t kKeyBytes = 8 + kIdBytes;

using Key = std::array<uint8_t, kKeyBytes>;  // be64(timestamp) || id

// Items a leaf bucket holds at most (edge scans read no more than this).
inline constexpr uint64_t kLeafCapacity = 64;
// A leaf scan that finds more items than this means the view is not a consistent state.
inline constexpr size_t kMaxLeafScan = 16 * kLeafCapacity;

// Bits of the key a bucket at `level` fixes: one byte a level down to 32 bits, then 4.
constexpr int DepthBits(int level) { return level <= 4 ? 8 * level : 32 + 4 * (level - 4); }
inline size_t PathBytes(int level) { return static_cast<size_t>((DepthBits(level) + 7) / 8); }
// How many children a bucket at `child_level - 1` can have.
inline unsigned Fanout(int child_level) { return child_level <= 4 ? 256 : 16; }

Key KeyOfItem(const Item& item);
Key KeyOfBound(const Bound& bound);
Item ItemOfKey(std::string_view bytes);  // REQUIRES: bytes.size() >= kKeyBytes
// `key` with the bits from `bits` on cleared.
Key MaskTo(const Key& key, int bits);
// The index of the child at `child_level` that `key` falls in.
unsigned ChildIndex(const Key& key, int child_level);
// Sets the bits of child `child` at `child_level`. REQUIRES: `path` has zero bits from
// DepthBits(child_level - 1) on.
void SetChild(Key* path, int child_level, unsigned child);

// Which children of a split bucket exist, one bit per child index.
using ChildSet = std::array<uint64_t, 4>;
inline bool HasChild(const ChildSet& set, unsigned child) {
  return (set[child / 64] >> (child % 64)) & 1;
}
inline void AddChild(ChildSet* set, unsigned child) {
  (*set)[child / 64] |= uint64_t{1} << (child % 64);
}

struct BucketRecord {
  bool split = false;
  Aggregate aggregate;
  ChildSet children{};  // split buckets only
};

// flags (format | split), varint count, 32-byte sum, and for a split bucket the bitmap of
// its children (2 bytes, or 32 for the byte levels): readers fetch children by key, which
// stays fast however many overwritten versions of hot buckets LevelDB still holds.
std::string EncodeRecord(const BucketRecord& record, int level);
// DATA_LOSS for a record this code cannot parse.
absl::StatusOr<BucketRecord> DecodeRecord(std::string_view value, int level);

// A leaf's items, in order: a format byte, then each item's 40-byte K. A reader of a leaf
// reads one record, not one LevelDB entry per item.
std::string EncodeLeaf(std::span<const Item> items);
// Appends the leaf's items to `out`; DATA_LOSS for a record this code cannot parse.
absl::Status DecodeLeaf(std::string_view value, std::vector<Item>* out);
// DecodeLeaf of the leaf at `level` whose bucket counts `count` items: DATA_LOSS too when
// the record holds another number.
absl::Status DecodeLeaf(std::string_view value, int level, uint64_t count,
                        std::vector<Item>* out);

// Keys under the index's `prefix`: prefix 'a' level path-bytes for a bucket (path-bytes are
// the bucket's bits of K, padded with zero bits), prefix 'l' path for a leaf's items (its
// path padded to all 40 bytes: the lowest K it can hold, so leaves lie in the order of
// their items and consecutive leaves are one scan).
std::string NodeKey(const std::string& prefix, int level, const Key& path);
std::string LeafKey(const std::string& prefix, const Key& path);
std::string LeafTableEnd(const std::string& prefix);
std::string BucketTable(const std::string& prefix);
// The level and path of a bucket key under `prefix`; false when `key` is not one.
bool ParseNodeKey(const std::string& prefix, std::string_view key, int* level, Key* path);
// The leaf keys [start, end) of the leaves inside the bucket at `level` holding `path`.
std::pair<std::string, std::string> BucketLeafRange(const std::string& prefix, int level,
                                                    const Key& path);

// The table of the index's first format, one entry per item (prefix 'i' K -> ""), which
// MoveItemsIntoLeaves (legacy_item_table.h) turns into leaf records.
std::string LegacyItemTable(const std::string& prefix);

}  // namespace lattice::kernel::sync::trie
