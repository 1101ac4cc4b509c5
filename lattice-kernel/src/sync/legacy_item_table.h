// The range index's first format kept each item as an entry of its own ('i' K -> ""), and
// reading a leaf meant stepping over up to 64 LevelDB entries; since leaves became one
// record each (range_index.h), a store written before is moved over when it opens.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "leveldb/write_batch.h"
#include "storage/kv_view.h"
#include "sync/range_index.h"

namespace lattice::kernel::sync {

// Writes `batch` durably to the store `committed` reads.
using CommitBatch = std::function<absl::Status(leveldb::WriteBatch* batch)>;

// Moves the items of the first format's table under `options` into the records of the
// leaves that hold them, and deletes their entries: a leaf at a time, in batches of about
// kItemsPerBatch items, each committed before the next is read, so an interrupted move
// goes on where it stopped at the next open. Does nothing, in one read, when there is no
// such entry. Returns how many items it moved; DATA_LOSS when an item lies in no leaf or a
// leaf's entries disagree with its count (nothing of that leaf is written).
// REQUIRES: nothing else writes the index meanwhile.
absl::StatusOr<uint64_t> MoveItemsIntoLeaves(const KvReader& committed,
                                             const CommitBatch& commit,
                                             const RangeIndexOptions& options = {});

inline constexpr size_t kItemsPerBatch = 16384;

}  // namespace lattice::kernel::sync
