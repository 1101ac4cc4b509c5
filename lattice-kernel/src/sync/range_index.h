// The persistent range index behind Negentropy: the (wall_ms, hash) items of a store's
// witnessed intentions with counts and 256-bit id sums kept in a trie of buckets inside
// the store's LevelDB, updated in the intention's own WriteBatch. A range's fingerprint,
// its count, and the bounds that cut it into parts of equal counts come from a descent of
// the trie, never from a scan of the range's items. The trie's buckets (not its items) are
// also held in memory, down to a budget (resident_trie.h): read from the bucket table at
// start-up and updated from each committed batch's bucket records.
//
// Design. An item is the 40-byte key K = be64(timestamp) || id, and the index is a trie
// over the bits of K. A bucket is a prefix of K: the first 8, 16, 24 or 32 bits (one byte a
// level at the top, where real timestamps share their high bits and a level is one short
// chain), then every further 4 bits down to all 320 (fanout 16). Each bucket stores the
// count and the id sum of the items under it, whether it is split, and if so a bitmap of
// its children. A bucket is a leaf until it holds more than kLeafCapacity items; the Add
// that pushes it over splits it, writing its children's aggregates from its (at most
// kLeafCapacity + 1) items, so no leaf ever holds more than kLeafCapacity items and the
// trie is only as deep as the data makes it. A leaf's items are one record of their own
// (its K's, in order), beside its bucket.
//
// Costs. Add reads and rewrites the buckets on its item's path (~50 bytes each): about
// log16(N / 64) levels plus the short chain on top, ~8 buckets for a million items spread
// over a year, and its leaf's record (at most kLeafCapacity x 40 bytes; the store's writer
// writes each record once a group, and new intentions share the newest leaf). Below(bound)
// walks the same path and, at each level, adds up the children left of it, then reads at
// most kLeafCapacity items of one leaf; AtRank descends by counts the same way. In the
// resident levels those walks read nothing from LevelDB; below them each child is one Get
// (not a scan, so the overwritten versions of hot buckets that LevelDB keeps until
// compaction cost nothing): O(levels x fanout), independent of the number of items in the
// range or in the store. What remains is reading leaves, one record each (a leaf was one
// LevelDB entry per item in the index's first format, whose steps over 64 entries cost a
// reconciliation more than everything else it does; see bench/README.md, issue 18): and
// a cut may still land on a bucket edge near the rank it aims at
// (CutNear), where neither side needs a leaf, and a reconciliation reads leaves only near
// its differences, where it lists, tests or tightly bounds items; the leaves read there
// are kept for the next messages and sessions (leaf_cache.h).
//
// Worst cases. Bursty timestamps and "all items in one millisecond": the trie continues
// below the millisecond into the id bits, which are uniform hashes, so a burst of M items
// in one millisecond adds ~log16(M / 64) levels and no leaf ever exceeds kLeafCapacity.
// Timestamps far in the future or the past (any u64): fanout is bounded at every level, so
// a descent reads at most 4 x 255 + 72 x 15 sibling records whatever the spread, and the
// depth is bounded by 76 levels since keys are distinct. Stamps of 2^64 - 1 (Negentropy's
// infinity) are stored as 2^64 - 2. Items are never removed; adding one twice is a no-op.
//
// Why not the alternatives: fixed time buckets need unbounded edge scans for bursts; an
// in-memory B-tree (the authors' choice) must be rebuilt from every item at start (~1 s
// per million items) and holds them all, where the resident levels hold ~1 bucket per 25
// items and load from the bucket table alone; a persistent B-tree, or buckets that hold
// their children's sums, rewrite whole nodes (hundreds of bytes to kilobytes) per insert,
// where a trie bucket is one 50-byte record.
//
// Layout under `prefix` (one table byte, 'n' by default, outside the state machine's 'S'):
//   prefix 'a' level path-bytes  -> flags, varint count, 32-byte sum LE [, child bitmap]
//   prefix 'l' path              -> format byte, K of each item of the leaf, in order
// where path-bytes are the bucket's bits of K, padded with zero bits to whole bytes, and a
// leaf's path is padded to all 40 bytes. (The first format's 'i' K -> "" entries, one an
// item, are moved into leaf records when a store opens: legacy_item_table.h.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sync/item_source.h"
#include "storage/kv_view.h"
#include "sync/resident_levels.h"
#include "sync/trie_layout.h"

namespace lattice::kernel::sync {

inline constexpr char kDefaultIndexTable = 'n';

struct RangeIndexOptions {
  // The key prefix of the index's table in the store's LevelDB.
  std::string prefix = std::string(1, kDefaultIndexTable);
};

// Writes the index. Stateless apart from its options: thread-safe, but each KvWriter
// belongs to one batch and one thread.
class RangeIndex {
 public:
  // Items a leaf bucket holds at most (edge scans read no more than this).
  static constexpr uint64_t kLeafCapacity = trie::kLeafCapacity;

  explicit RangeIndex(RangeIndexOptions options = {}) : options_(std::move(options)) {}

  // Adds the item (timestamp, id) through `batch`, in the same batch as the intention, and
  // says whether it was added: adding an item already present changes nothing. Errors are
  // the view's read errors or DATA_LOSS for a record this code cannot parse; then nothing
  // must be committed.
  absl::StatusOr<bool> Add(KvWriter& batch, uint64_t timestamp, const ItemId& id) const;

  const RangeIndexOptions& options() const { return options_; }

 private:

  RangeIndexOptions options_;
};

// Reads the index as an ItemSource for one reconciliation message: make one per message
// over a KvReader that sees one state (a LevelDB snapshot, or no concurrent writer). The
// descents start in the index's resident levels when it is given them (resident_trie.h)
// and they show the state `kv` shows, and go on in LevelDB below them; it caches what it
// reads there (bounded), so the many descents of one message share it. Cuts near a rank
// (CutNear) land on the bucket edge nearest the rank within their window when there is
// one, and a Below at a bucket's edge ends there: neither reads the items of a leaf. The
// leaves it reads are shared with the other readers through the resident levels' cache.
// Owned by one thread.
class RangeIndexReader : public ItemSource {
 public:
  explicit RangeIndexReader(const KvReader& kv, RangeIndexOptions options = {});
  // `resident` may be null, or show another state than `kv` (a commit between the two):
  // the reader then reads LevelDB alone.
  RangeIndexReader(const KvReader& kv, std::shared_ptr<const ResidentLevels> resident,
                   RangeIndexOptions options = {});
  ~RangeIndexReader() override;

  absl::StatusOr<Aggregate> Total() override;
  absl::StatusOr<Aggregate> Below(const Bound& bound) override;
  absl::StatusOr<RankedItem> AtRank(uint64_t rank) override;
  absl::StatusOr<CutPoint> CutNear(uint64_t rank, uint64_t lowest, uint64_t highest) override;
  absl::Status ItemsIn(const Bound& lower, const Bound& upper, size_t limit,
                       std::vector<Item>* out) override;

  // Whether the descents start in resident levels (reads the root when not read yet).
  absl::StatusOr<bool> UsesResidentLevels();
  // Reads of the underlying view so far (for tests and benchmarks).
  uint64_t reads() const { return reads_; }

 private:
  using Key = trie::Key;
  struct LeafRef {
    int level = 0;
    Key path{};
    uint64_t count = 0;
  };
  // Where a descent by key ends: every item below `below` lies below the key, and in
  // `leaf`, when it ends in one, items may lie on either side of it.
  struct KeyDescent {
    Aggregate below;
    std::optional<LeafRef> leaf;
  };
  // Where a descent by rank ends: the leaf holding the rank, the rank within it and what
  // lies below the leaf, and the bucket edge nearest the rank within a window, if any.
  struct RankDescent {
    LeafRef leaf;
    uint64_t rank = 0;
    Aggregate before;
    std::optional<CutPoint> edge;
    uint64_t edge_distance = 0;
  };
  struct RankWindow {
    uint64_t lowest = 0;
    uint64_t highest = 0;
  };

  absl::StatusOr<const ResidentBucket*> Root();
  absl::StatusOr<KeyDescent> DescendToKey(const Key& target);
  // With a window, the descent also finds the bucket edge within it nearest the rank.
  absl::StatusOr<RankDescent> DescendToRank(uint64_t rank, std::optional<RankWindow> window);
  // The children of the split bucket `bucket` at `level` holding `path`.
  absl::StatusOr<const ResidentChildren*> ChildrenOf(int level, const Key& path,
                                                     const ResidentBucket& bucket);
  // A leaf's items and their prefix sums, from the caches or the view.
  absl::StatusOr<const Leaf*> LeafItems(const LeafRef& leaf);
  // Reads the leaves of `leaves` (consecutive, in order) that no cache holds, in one scan.
  absl::Status ReadLeaves(const std::vector<LeafRef>& leaves);
  absl::Status ItemsInLeaves(const Bound& lower, const Bound& upper, size_t limit,
                             std::vector<Item>* out);
  const Leaf* CachedLeaf(const std::string& key, uint64_t count);
  void TrimCache();  // between descents only: descents hold pointers into the caches

  const KvReader& kv_;
  RangeIndexOptions options_;
  std::shared_ptr<const ResidentLevels> resident_;
  std::shared_ptr<LeafCache> shared_leaves_;  // kept even when resident_ is not used
  ResidentBucket disk_root_;
  bool root_loaded_ = false;
  // Read from the view: children of buckets below the resident levels, the child sets of
  // the split buckets among them, and leaves.
  std::unordered_map<std::string, std::unique_ptr<ResidentChildren>> children_cache_;
  std::unordered_map<std::string, trie::ChildSet> child_sets_;
  std::unordered_map<std::string, LeafCache::Items> leaf_cache_;
  uint64_t reads_ = 0;
};

}  // namespace lattice::kernel::sync
