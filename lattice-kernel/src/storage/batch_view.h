// A WriteBatch being built, readable through: Get and ScanPrefix see the batch's own puts
// and deletes over the database. The writer applies many intentions into one view and
// commits it with one fsync (group commit).
#pragma once

#include <leveldb/write_batch.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/database.h"

namespace lattice::kernel {

// Owned by one thread. REQUIRES: nothing else writes the database while the view lives
// (the store's group leader is its only writer), since Get remembers what it read.
class BatchView {
 public:
  explicit BatchView(const Database& db) : db_(db) {}

  // A read error is remembered in status() and reads as absent; the owner checks status()
  // before committing, so a failed read can never lead to a committed wrong write.
  std::optional<std::string> Get(std::string_view key);
  bool Contains(std::string_view key) { return Get(key).has_value(); }
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  // Visits keys starting with `prefix`, merged from the batch and the database, in order.
  void ScanPrefix(std::string_view prefix,
                  const std::function<bool(std::string_view, std::string_view)>& visit);
  // Visits keys in [start, end) (end empty: no bound), merged the same way, in order, until
  // `visit` returns false. Unlike ScanPrefix it holds nothing beyond the key at hand, so a
  // caller may stop early in a large range at little cost.
  void Scan(std::string_view start, std::string_view end,
            const std::function<bool(std::string_view, std::string_view)>& visit);

  const Database& db() const { return db_; }
  leveldb::WriteBatch* batch() { return &batch_; }
  const absl::Status& status() const { return status_; }
  // Records an error of work done for this batch elsewhere (say, the sync index), so the
  // owner will not commit it.
  void Fail(const absl::Status& status) {
    if (status_.ok()) status_ = status;
  }
  size_t ApproximateSize() const { return batch_.ApproximateSize(); }
  // True until the first Put or Delete.
  bool empty() const { return writes_ == 0; }

 private:
  const Database& db_;
  leveldb::WriteBatch batch_;
  std::map<std::string, std::optional<std::string>, std::less<>> overlay_;
  // Committed values (or their absence) read so far: a group reads some keys more than
  // once (a kv key's heads when its write is built and again when it is applied).
  std::map<std::string, std::optional<std::string>, std::less<>> read_;
  absl::Status status_;
  size_t writes_ = 0;
};

}  // namespace lattice::kernel
