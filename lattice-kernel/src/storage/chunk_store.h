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
  // so it is fetched again).
  absl::StatusOr<std::string> Read(std::string_view hash, uint64_t offset, uint64_t length) const;
  absl::StatusOr<uint64_t> SizeOf(std::string_view hash) const;

  // Makes every chunk Put before the call durable. Cheap when nothing was put since the last.
  absl::Status Sync();

  uint64_t bytes_stored() const;
  uint64_t chunk_count() const;

 private:
  struct Impl;
  explicit ChunkStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lattice::kernel
