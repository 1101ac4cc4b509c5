// A KvReader over a LevelDB database, optionally pinned to a snapshot: what the tests and
// benchmarks use, and what a caller holding a leveldb::DB can hand to RangeIndexReader.
#pragma once

#include <leveldb/db.h>

#include "sync/kv_view.h"

namespace lattice::kernel::sync {

// Thread-safe as LevelDB reads are. Borrows `db` (and `snapshot`, which may be null).
class LevelDbKv : public KvReader {
 public:
  explicit LevelDbKv(leveldb::DB* db, const leveldb::Snapshot* snapshot = nullptr)
      : db_(db), snapshot_(snapshot) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
};

}  // namespace lattice::kernel::sync
