// A store's chunk store: the content-addressed chunks (BLAKE2b-256 of their bytes) that fs
// content versions cite, kept beside the store's LevelDB in a layout made for large sequential
// data, so a chunk is written once and synced once and never goes through LevelDB's log and
// compactions. Chunks are immutable and idempotent: storing a chunk twice keeps one copy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::kernel {

// On disk: <dir>/packs/NNNNNN.pack, append-only files of records (chunk_store.cc describes
// them); the index of where each chunk lies is rebuilt by reading the records' headers at
// Open, and a torn record at the end of the newest pack (a crash mid-write) is cut off.
// Thread-safe.
class ChunkStore {
 public:
  struct Options {
    // A pack that reaches this size is synced and closed, and the next chunk starts a new one.
    uint64_t pack_bytes = 64ull * 1024 * 1024;
    // Tests: called before each record is written; a non-zero errno makes the write stop
    // half-way and fail with it (as a full disk would).
    std::function<int()> inject_write_error;
    // Put refuses new chunks (RESOURCE_EXHAUSTED) once the disk holding the store has less
    // free than this, so the store's small metadata writes (an unlink that frees space) still
    // fit on a disk the chunks filled. 0: no check.
    uint64_t min_free_bytes = 0;
  };

  // Garbage collection (store/chunk_gc.h decides which chunks are kept). A chunk is dropped
  // by Collect only when `keep` says no AND it was not touched since `untouched_since_ms`:
  // every Put (new or not), Has, Missing and Read touches the chunks it names, so a chunk a
  // write is about to cite (uploaded, or found present by a dedup check) or a reader is
  // still reading is never dropped under it. Times are on NowMs(), the store's own clock.
  struct CollectOptions {
    uint64_t untouched_since_ms = 0;
    // Packs whose live bytes are at most this fraction of their size are compacted: their
    // live records are copied to the newest pack, synced, and then the pack is deleted.
    double max_live_fraction = 0.5;
    // Bounded work per pass: at most this many live bytes copied, and this many packs
    // compacted (a pack with nothing live costs no copy and is always dropped).
    uint64_t max_copy_bytes = 64ull * 1024 * 1024;
    size_t max_packs = 16;
    // The pack being appended to is closed (so it can be compacted) when at least this big
    // and at most max_live_fraction live.
    uint64_t min_seal_bytes = 1024 * 1024;
    // Tests: called at each step of a compaction ("counted", "copied", "synced",
    // "deleted"); false stops the pass right there, as a kill -9 would (no later step
    // happens).
    std::function<bool(std::string_view step)> continue_at;
  };
  struct CollectStats {
    uint64_t chunks_dropped = 0;  // forgotten from the index (not kept, not touched)
    uint64_t bytes_dropped = 0;
    uint64_t packs_deleted = 0;
    uint64_t chunks_copied = 0;   // live chunks moved out of compacted packs
    uint64_t bytes_copied = 0;
    uint64_t pack_bytes_before = 0;
    uint64_t pack_bytes_after = 0;
  };

  // `dir` is created (durably) when missing.
  static absl::StatusOr<std::unique_ptr<ChunkStore>> Open(const std::string& dir);
  static absl::StatusOr<std::unique_ptr<ChunkStore>> Open(const std::string& dir,
                                                          Options options);
  ~ChunkStore();

  // Checks `data` against `hash` (INVALID_ARGUMENT when they differ, storing nothing) and
  // stores it unless present. Not durable until Sync. Returns whether it was new.
  // RESOURCE_EXHAUSTED when the disk is full; nothing partial is ever read back as a chunk.
  absl::StatusOr<bool> Put(std::string_view hash, std::string_view data);

  absl::StatusOr<bool> Has(std::string_view hash) const;
  // The hashes among `hashes` this store lacks, in the order given.
  absl::StatusOr<std::vector<std::string>> Missing(const std::vector<std::string>& hashes) const;

  // `length` bytes of the chunk from `offset` (fewer at its end). NOT_FOUND when absent;
  // DATA_LOSS when what is on disk no longer matches the hash (the chunk is then dropped,
  // so it is fetched again). A chunk this process saw whole and matching a moment ago is
  // not hashed again unless `check` is kAlways (bytes leaving for a peer always are: a peer that
  // received damaged bytes would take this node for a liar).
  enum class Check { kUnlessRecent, kAlways };
  absl::StatusOr<std::string> Read(std::string_view hash, uint64_t offset, uint64_t length,
                                   Check check = Check::kUnlessRecent) const;
  absl::StatusOr<uint64_t> SizeOf(std::string_view hash) const;

  // Makes every chunk Put before the call durable. Cheap when nothing was put since the last.
  absl::Status Sync();

  uint64_t bytes_stored() const;
  uint64_t chunk_count() const;
  // Bytes of the pack files on disk (what collection gives back).
  uint64_t pack_bytes() const;

  // Milliseconds since the store was opened (steady): the clock of touches.
  uint64_t NowMs() const;
  // Starts a collection: from now until the next Collect ends, hashes the store lacks that
  // Missing asked after (a commit recording its wants) are remembered too, so ForUntouched
  // can tell a want recorded meanwhile. Returns NowMs().
  uint64_t StartCollection();
  // Calls `fn` with those of `hashes` that no Put, Has, Missing or Read named since
  // `since_ms` (for a chunk the store lacks: no Missing since StartCollection), under the
  // store's lock: a want dropped by `fn` cannot race with a commit
  // that records it again (the commit's Missing waits for the lock, and then sees it).
  absl::Status ForUntouched(const std::vector<std::string>& hashes, uint64_t since_ms,
                            const std::function<absl::Status(const std::vector<std::string>&)>& fn);
  // One bounded pass: forgets the chunks neither kept nor touched, then compacts the packs
  // that are mostly dead. Crash-safe at every step: a copy is synced before the pack it
  // came from is deleted, and a reopen takes the last whole record of a chunk (the copy)
  // and ignores what was forgotten only in memory (the next pass forgets it again). Ends
  // the collection StartCollection started. On a full disk packs with nothing live are
  // still deleted; the copies that did not fit wait for the next pass.
  absl::StatusOr<CollectStats> Collect(const std::function<bool(std::string_view hash)>& keep,
                                       const CollectOptions& options);

 private:
  struct Impl;
  explicit ChunkStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lattice::kernel
