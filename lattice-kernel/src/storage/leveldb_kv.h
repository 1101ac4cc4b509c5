// A KvReader over a LevelDB database, optionally pinned to a snapshot: what the tests and
// benchmarks use, and what a caller holding a leveldb::DB can hand to RangeIndexReader.
#pragma once

#include <leveldb/db.h>

#include <memory>

#include "storage/kv_view.h"

namespace lattice::kernel {

// Borrows `db` (and `snapshot`, which may be null). Thread-safe as LevelDB reads are.
class LevelDbKv : public KvReader {
 public:
  explicit LevelDbKv(leveldb::DB* db, const leveldb::Snapshot* snapshot = nullptr)
      : db_(db), snapshot_(snapshot) {}
  ~LevelDbKv() override;

  // A reader for one reconciliation message: it holds a snapshot taken now (released
  // when it is destroyed), so all its reads see one state of the database. It belongs to
  // one thread: its scans share one iterator, since making a LevelDB iterator (one per
  // table of level 0 and per level, merged) costs about as much as the seek itself.
  static std::unique_ptr<LevelDbKv> Pinned(leveldb::DB* db);

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;

 private:
  leveldb::Iterator* NewIterator() const;
  // Visits from where `it` stands up to `end` (empty: no end). With `resume_from`, keeps it
  // the smallest key the iterator's position answers for, as it steps past keys.
  static absl::Status ScanFrom(leveldb::Iterator* it, std::string_view end,
                               const Visitor& visit, std::string* resume_from);

  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
  bool owns_snapshot_ = false;
  // A pinned reader's iterator, and whether a scan is using it (a scan started from
  // another's visitor makes its own).
  mutable std::unique_ptr<leveldb::Iterator> iterator_;
  mutable bool scanning_ = false;
  // Where the shared iterator stands, when `resumable_`: at the first key at or above
  // `resume_from_` (where its last scan began, or just past the last key it stepped over).
  // A scan from there up to the iterator's key needs no seek.
  mutable bool resumable_ = false;
  mutable std::string resume_from_;
};

}  // namespace lattice::kernel
