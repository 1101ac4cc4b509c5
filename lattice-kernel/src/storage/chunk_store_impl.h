// ChunkStore's state, shared by the store (chunk_store.cc) and its collector
// (chunk_collection.cc). Not for other users: ChunkStore is the interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/chunk_pack_format.h"
#include "storage/chunk_store.h"

namespace lattice::kernel {

using chunk_pack::Fd;
using chunk_pack::PackName;

struct ChunkStore::Impl {
  struct Location {
    uint32_t pack = 0;
    uint64_t offset = 0;  // of the data
    uint32_t length = 0;
    uint64_t touched_ms = 0;  // NowMs() of the last Put, Has, Missing or Read naming it
    // When this process last saw the bytes match the hash (seconds on `clock_start`'s clock,
    // plus one; 0: never): at the Put that wrote them or at a Read that checked them.
    uint32_t checked_at = 0;
    bool operator==(const Location& o) const {
      return pack == o.pack && offset == o.offset && length == o.length;
    }
  };
  // A chunk checked this recently is read without hashing it again: its bytes were just seen
  // whole and almost surely come from the page cache, not from the disk whose damage the
  // check is for; a large file read back in many pieces would otherwise hash every chunk each
  // time a read touches it.
  static constexpr uint32_t kRecheckAfterSeconds = 300;
  const std::chrono::steady_clock::time_point clock_start = std::chrono::steady_clock::now();
  uint32_t Now() const {
    auto elapsed = std::chrono::steady_clock::now() - clock_start;
    return static_cast<uint32_t>(
               std::chrono::duration_cast<std::chrono::seconds>(elapsed).count()) + 1;
  }

  std::string dir;
  std::string packs_dir;
  Options options;

  mutable std::mutex mu;
  std::unordered_map<std::string, Location> index;
  uint64_t bytes = 0;
  // The pack appended to, and where its next record goes.
  uint32_t active_pack = 0;
  std::shared_ptr<Fd> active_fd;
  uint64_t active_size = 0;
  // Whether anything was appended, or a pack created, since the last Sync.
  bool dirty = false;
  bool dir_dirty = false;
  // Serialises Sync calls so a second one waits for the first's fsync rather than skipping.
  std::mutex sync_mu;
  // Collection: while `collecting`, absent hashes asked after, with when (bounded; past the
  // bound `asked_overflow` makes ForUntouched give nothing).
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
  bool collecting = false;
  std::unordered_map<std::string, uint64_t> asked_absent;
  bool asked_overflow = false;
  // One Collect at a time.
  std::mutex collect_mu;

  uint64_t NowMs() const {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - opened)
                                     .count());
  }
  // Records that `hash` was named now. REQUIRES: mu held.
  void Touch(const std::string& hash, uint64_t now) {
    auto it = index.find(hash);
    if (it != index.end()) {
      it->second.touched_ms = now;
    } else if (collecting) {
      if (asked_absent.size() < 100'000) {
        asked_absent[hash] = now;
      } else {
        asked_overflow = true;
      }
    }
  }
  // Syncs the active pack and the directory. REQUIRES: sync_mu held, mu not held.
  absl::Status SyncActive();

  std::string PackPath(uint32_t number) const { return packs_dir + "/" + PackName(number); }

  // Walks one pack's records into the index; returns where its whole records end.
  // `verify_data`: also checks each chunk's bytes against its hash (the newest pack).
  absl::StatusOr<uint64_t> Scan(uint32_t number, bool verify_data);
  // Opens (creating) pack `number` for appending at `size`. REQUIRES: mu held.
  absl::Status OpenActive(uint32_t number, uint64_t size);
  // Appends one record to the active pack, rotating first when it is full. REQUIRES: mu held.
  absl::StatusOr<Location> Append(const char magic[4], std::string_view hash, std::string_view data);
  // Forgets a chunk whose bytes no longer match, with a tombstone so a reopen does too,
  // unless it has moved from `where` meanwhile (a compaction copied it).
  void Drop(const std::string& hash, const Location& where);
};

}  // namespace lattice::kernel
