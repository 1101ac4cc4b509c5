// The chunks an fs store wants: ones that its applied intentions cite (FsWrite extents) and
// its chunk store lacks. Recorded in the store's database (table keys::kChunkWant) in the
// batch that applies the citing intention, so a want is never lost to a crash, and dropped
// once the chunk is stored. Replication's chunk fetcher reads them and asks peers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/batch_view.h"
#include "storage/chunk_store.h"
#include "storage/database.h"

namespace lattice::kernel {

// The chunk hashes an intention of `op_type` with `payload` cites, each once, in the order
// they first appear: the non-empty extent hashes of its FsWrite ops (for a write in delta
// form, those of its splices: the extents it keeps were cited by its base's intention). Empty for other op
// types and for a payload that does not parse (the state machine refuses it anyway).
std::vector<std::string> ChunksCitedBy(std::string_view op_type, std::string_view payload);

// Puts into `view` a want for each of `cited` that `chunks` lacks; returns how many.
// REQUIRES: the caller is the store's writer (it owns `view`).
absl::StatusOr<size_t> RecordChunkWants(BatchView& view, const ChunkStore& chunks,
                              const std::vector<std::string>& cited);

// Wants of `db` in hash order, after `after` ("" = from the first), at most `max`.
absl::StatusOr<std::vector<std::string>> ListChunkWants(const Database& db, size_t max,
                                                        std::string_view after = {});

// Adds (a chunk found damaged, to fetch again) or drops (a chunk now stored) wants, in one
// unsynced write: a want lost to a crash is re-derived when a read misses the chunk, and a
// want that outlives its chunk is dropped by the next fetch sweep. Safe beside the store's
// writer: it only ever puts want keys, never reads them.
absl::Status AddChunkWants(Database& db, const std::vector<std::string>& hashes);
absl::Status DropChunkWants(Database& db, const std::vector<std::string>& hashes);

}  // namespace lattice::kernel
