// One LevelDB database (a store's or the node's) opened on the durable Env. Reads may run on
// any thread; writes come from one owner at a time. After a failed write LevelDB refuses all
// further writes until reopened, so Write reopens the database on its next call.
#pragma once

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/kv_view.h"

namespace lattice::kernel {

// Maps a LevelDB status to an absl::Status; running out of space is RESOURCE_EXHAUSTED.
absl::Status FromLevelDb(const leveldb::Status& s, std::string_view context);

// Thread-safe. It is also the committed view the sync index reads (KvReader).
class Database : public KvReader {
 public:
  // LevelDB's memtable size. A store's write is a dozen entries and about 1.5 KB, so
  // LevelDB's own 4 MiB filled every second or two under load, and the compactions that
  // follow stall the log's fdatasync (a cache flush waits for their writes). As RocksDB
  // does by default, 64 MiB: the memory a busy database may hold, twice while flushing.
  static constexpr size_t kDefaultWriteBufferBytes = 64u << 20;

  // Creates the directory (durably) when missing. `env` is the file system below the
  // database: nullptr for DurableEnv(); tests pass a fault-injecting one. Not owned; it
  // outlives the database. Either way write-ahead logs are sealed (SealedLogEnv).
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& dir, size_t write_buffer_bytes = kDefaultWriteBufferBytes,
      leveldb::Env* env = nullptr);
  ~Database() override;

  const std::string& dir() const { return dir_; }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;

  // Calls `visit(key, value)` for keys in [start, end) in order (end empty = no bound),
  // until it returns false.
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;
  // One iterator walks the keys in order: a Seek finds the first and each following key is
  // found by stepping on, or seeking when it lies further on, so keys that are new after one
  // another cost one Seek where each Get of a missing key searches the memtable and asks
  // every table's filter. Keys that lie far apart (a Seek for most of them) are read with
  // Get after the first few, where the filters answer for missing keys without a read.
  absl::Status GetSorted(std::span<const std::string_view> sorted,
                         const SortedVisitor& found) const override;
  // The same, from the last key before `end` (or the last of all) down to `start`.
  absl::Status ScanReverse(std::string_view start, std::string_view end,
                           const Visitor& visit) const;

  absl::Status Write(leveldb::WriteBatch* batch, bool sync);

  // After a failed Write: reopens the database now rather than at the next write, so reads
  // show what the reopened database holds. A write whose fsync failed may still be in the
  // log, and the reopen replays it: the store's writer reloads its state from what this
  // shows, lest it sign another intention in the place of one the log brings back. Does
  // nothing when no write failed.
  absl::Status ReopenAfterFailure();

  // Writes the memtable out as a table and starts an empty log, so the next open has no log
  // to replay. For a clean close: without it a restart replays up to a memtable of log
  // (64 MiB, about a second) whatever the database holds, and after it a restart costs the
  // same however much was written before. UNAVAILABLE when the database is closed after an
  // error; a flush that fails (a full disk) leaves the log to be replayed, losing nothing.
  absl::Status FlushMemtable();

  // Compacts the keys in [start, end) (an empty bound: no bound) now, and waits for it.
  // LevelDB keeps every version of a rewritten key until a compaction that reaches it (a
  // memtable's flush writes them all), and scans step over them: the sync index rewrites a
  // leaf record at each add. LevelDB merges the range's tables level by level into the
  // deepest level holding it, dropping old versions; a range that lies in one level alone
  // stays as it is. Errors (a full disk) surface at the next write.
  void Compact(std::string_view start, std::string_view end);
  // The same on a thread of its own; returns false, starting nothing, while an earlier one
  // runs or when the disk lacks room for a second copy of the range beside the free space
  // writes keep (set_min_free_bytes). The destructor waits for it.
  bool CompactInBackground(std::string start, std::string end);
  // Background compactions finished so far (for tests).
  uint64_t background_compactions() const { return background_compactions_.load(); }

  // A reader pinned to a snapshot taken now, so all its reads see one state (one
  // reconciliation message reads the sync index through it). While it lives the database
  // cannot be reopened after a write error, so keep it short-lived.
  // UNAVAILABLE when the database is closed after an error.
  absl::StatusOr<std::unique_ptr<KvReader>> Pin() const;

  // Refuses writes (RESOURCE_EXHAUSTED) while the file system holding the database has less
  // than `bytes` available, so LevelDB itself never meets a full disk in the common case.
  void set_min_free_bytes(uint64_t bytes) { min_free_bytes_ = bytes; }

 private:
  Database(std::string dir, size_t write_buffer_bytes, leveldb::Env* env);
  absl::Status OpenLocked();
  // REQUIRES: write_mutex_ held and needs_reopen_.
  absl::Status ReopenLocked();
  // REQUIRES: write_mutex_ held. `bytes` is the size of the write about to be made.
  absl::Status CheckFreeSpace(uint64_t bytes);

  std::string dir_;
  size_t write_buffer_bytes_;
  std::unique_ptr<leveldb::Env> env_;                // outlives db_: declared before it
  std::unique_ptr<leveldb::Logger> info_log_;  // outlives db_: declared before it
  mutable std::shared_mutex mutex_;  // exclusive only to swap db_ on reopen
  std::mutex write_mutex_;           // serializes writers around the reopen logic
  std::unique_ptr<leveldb::DB> db_;
  bool needs_reopen_ = false;
  // Writes since the open or the last FlushMemtable (guarded by write_mutex_). Without
  // any the log is already empty: an open writes what it recovers out as a table.
  bool unflushed_writes_ = false;
  uint64_t min_free_bytes_ = 0;
  std::mutex compactor_mutex_;  // guards compactor_
  std::thread compactor_;
  std::atomic<bool> compacting_{false};
  std::atomic<uint64_t> background_compactions_{0};
  // What the last look at the file system found (guarded by write_mutex_): asking it on
  // every commit costs a system call per write, so it is asked again only when this
  // database's own writes since may have used half the room above the minimum, or others
  // may have used it: after kFreeSpaceRecheck, or at once while the disk looks full.
  uint64_t available_at_check_ = 0;
  uint64_t written_since_check_ = 0;
  std::chrono::steady_clock::time_point checked_at_{};
};

}  // namespace lattice::kernel
