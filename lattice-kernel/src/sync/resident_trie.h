// The range index's upper levels kept in memory beside its tables in LevelDB, so that a
// reconciliation reads LevelDB only near the items it must list or cut between: every
// message's descents start at the root, and without them each would re-read the same
// upper buckets from LevelDB (a Get each, ~15 per level).
//
// Memory never disagrees with the disk: the levels are read from the index's bucket table
// at open (Load), and each later state is built from exactly the bucket records that a
// committed write batch put (Publish), so a crash loses nothing that a reopen's Load does
// not read back. A batch that fails is never published; Load again after one (the store
// reloads its writer state then). A reader still checks the levels against the root
// record of the LevelDB snapshot it reads (RangeIndexReader) and ignores them when they
// show another state, which a commit racing with the reader's snapshot can cause.
//
// Memory is bounded: the levels go down to the deepest one whose buckets, with all above
// it, number at most `max_buckets` (~64 bytes each; 2^18 hold every bucket of about five
// million items spread over a year), and a Publish that passes the bound gives up the
// deepest level.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "storage/kv_view.h"
#include "sync/range_index.h"
#include "sync/resident_levels.h"

namespace lattice::kernel::sync {

// What one write batch changes in the index: the bucket records it puts and the number of
// items it adds. Built from the batch's puts, each key once (the last value of a key), and
// the count of items its Adds added (RangeIndex::Add returns whether it added one).
class IndexUpdate {
 public:
  explicit IndexUpdate(const RangeIndexOptions& options = {}, uint64_t items_added = 0)
      : prefix_(options.prefix), items_added_(items_added) {}

  // Takes one put of the batch; puts outside the index's table are ignored.
  void Record(std::string_view key, std::string_view value);
  bool empty() const { return buckets_.empty() && items_added_ == 0; }
  uint64_t items_added() const { return items_added_; }
  // Leaf records the batch writes: each leaves its old version in LevelDB until a
  // compaction (index_compaction.h).
  uint64_t leaves_written() const { return leaves_written_; }

 private:
  friend class ResidentTrie;
  std::string prefix_;
  std::unordered_map<std::string, std::string> buckets_;  // bucket key -> record
  uint64_t items_added_ = 0;
  uint64_t leaves_written_ = 0;
};

// Thread-safe. Load, Publish and Invalidate come from the index's one writer; Current from
// any thread.
class ResidentTrie {
 public:
  static constexpr size_t kDefaultMaxBuckets = size_t{1} << 18;

  explicit ResidentTrie(RangeIndexOptions options = {},
                        size_t max_buckets = kDefaultMaxBuckets);

  // Reads the levels from the index as `committed` shows it. On an error nothing is
  // resident (readers use LevelDB alone) and the error is DATA_LOSS for records that do not
  // add up, or the view's read error.
  absl::Status Load(const KvReader& committed);
  // After a batch carrying `update` is committed, over the state resident now. An update
  // that does not fit that state (a batch built over another one) is not applied: the
  // levels are read again from `committed`, which must show the state after the batch.
  absl::Status Publish(const IndexUpdate& update, const KvReader& committed);
  // Nothing resident until the next Load.
  void Invalidate();

  // The levels as of the last commit; null when nothing is resident.
  std::shared_ptr<const ResidentLevels> Current() const;
  // The items the index holds as of the last commit; 0 when nothing is resident.
  uint64_t ItemsHeld() const;

  const RangeIndexOptions& options() const { return options_; }

 private:
  void Install(std::shared_ptr<const ResidentLevels> levels);

  const RangeIndexOptions options_;
  const size_t max_buckets_;
  std::shared_ptr<LeafCache> leaves_;  // what every state it publishes shares
  mutable std::mutex mutex_;  // guards current_ (the pointer, not what it points to)
  std::shared_ptr<const ResidentLevels> current_;
};

}  // namespace lattice::kernel::sync
