// Garbage collection of an fs store's chunks: which chunks are still needed (the liveness
// rule below), and the pass that forgets the others and compacts the packs that hold them
// (Store::CollectChunks, run by the store's own collector thread).
//
// The liveness rule. A chunk is kept when any of these holds:
//  1. A head of a live inode cites it: the winner and every other head (the conflict copies
//     shown beside the file) of an inode FsReader shows (some entry of it is visible: placed
//     outside the trash, or in the trash but shown again by an edit its unlink did not see).
//  2. A head of an inode whose every entry is in the trash cites it, and the latest of those
//     moves to the trash is younger than the grace period (by its HLC wall time). This keeps
//     an unlinked file readable through the handles still open on it for that long.
//  3. A version replaced by a version younger than the grace period cites it: a peer that
//     has not applied the replacing write yet still shows the old version and may ask us for
//     its chunks; `fs history`/`fs restore` of a recent overwrite still work; and a handle
//     opened on the old version still reads it.
//  4. The chunk store saw it named within the touch window, or since the pass began: a Put
//     (an upload whose commit is still to come), a Has or Missing (a dedup check, the commit
//     that records wants), or a Read (an open file being read, unlinked or not, and peers'
//     chunk requests). So an upload is never collected before the write that cites it
//     commits (the window must exceed the longest upload-to-commit time of a client), and
//     a file kept open and read stays readable past the grace period. A restart counts as a
//     touch of every chunk: nothing is collected in the first touch window after an open.
// Everything else goes: versions replaced longer ago than the grace period, and the content
// of files unlinked longer ago (the version records stay in the state, so `fs history`
// still lists them; reading or restoring one then fails with NOT_FOUND).
//
// What a node answers for a collected chunk: a peer's request for it is answered "unknown"
// (ChunkFetcher). The peer is not stuck wanting it: every pass also drops this node's wants
// of chunks the rule no longer keeps here, and a peer that wants a chunk of a version this
// node superseded gets the superseding intention from us by the ordinary sync, after which
// its own pass drops the want. A want recorded while the pass runs is never dropped by it
// (ChunkStore::ForUntouched). Conversely every chunk the rule keeps that this node lacks is
// wanted again by each pass, whatever lost or never recorded its want (a write in delta
// form cites only its new chunks; its base's may have been collected here meanwhile).
//
// Liveness is decided locally: a resurrection this node learns of late (a concurrent link
// or rename of a file it unlinked longer than the grace period ago) finds its chunks
// collected here; reading it records them as wanted and they are fetched from the peer that
// kept the file live (that peer never stopped keeping them).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "absl/status/statusor.h"
#include "storage/chunk_store.h"
#include "storage/database.h"

namespace lattice::kernel {

struct ChunkGcOptions {
  uint64_t grace_ms = 10 * 60 * 1000;
  // Rule 4's window.
  uint64_t touch_window_ms = 10 * 60 * 1000;
  // The wall clock (ms since the epoch) rules 2 and 3 compare HLC times with; 0: now.
  uint64_t now_wall_ms = 0;
  // Per-pass bounds of the compaction (untouched_since_ms is set by the pass).
  ChunkStore::CollectOptions collect;
};

struct ChunkGcStats {
  uint64_t chunks_kept = 0;   // by rules 1-3
  uint64_t wants_dropped = 0;
  ChunkStore::CollectStats collect;
};

// The chunks rules 1-3 keep, from an fs store's committed state (state/fs_keys.h tables).
absl::StatusOr<std::unordered_set<std::string>> FsKeptChunks(const Database& db,
                                                             uint64_t now_wall_ms,
                                                             uint64_t grace_ms);

}  // namespace lattice::kernel
