// A WriteBatch being built, readable through: Get and ScanPrefix see the batch's own puts
// and deletes over what lies below it (the database, or the database with the writes of a
// group still being committed). The writer applies many intentions into one view and
// commits it with one fsync (group commit).
#pragma once

#include <leveldb/write_batch.h>

#include <functional>
#include <map>
#include <memory_resource>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/database.h"
#include "storage/kv_view.h"

namespace lattice::kernel {

// Owned by one thread. REQUIRES: nothing else writes what lies below while the view lives
// (the store's writer is its only writer), since Get remembers what it read.
//
// What a view writes and reads lives in an arena of its own, released at once with the
// view and its writes(): a group of 16 batches of 64 puts makes thousands of small keys and
// values, whose one-by-one allocation and release cost about a fifth of the writer's time.
class BatchView {
 public:
  // Every key the batch writes, with its value or nullopt for a delete; a key written twice
  // keeps its last write. Keys and values point into the view's arena.
  using Writes = std::pmr::map<std::string_view, std::optional<std::string_view>, std::less<>>;

  // `below` outlives the view: a Database, or a LayeredReader over one.
  explicit BatchView(const KvReader& below);

  // A read error is remembered in status() and reads as absent; the owner checks status()
  // before committing, so a failed read can never lead to a committed wrong write.
  std::optional<std::string> Get(std::string_view key);
  bool Contains(std::string_view key) { return Get(key).has_value(); }
  // Reads `keys` from below in one ordered pass (KvReader::GetSorted) and remembers what it
  // read, so their Gets that follow are answered from memory: for the many keys of a group's
  // kv writes, most of them new, one walk costs far less than a Get each.
  void Prefetch(std::vector<std::string_view> keys);
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  // Visits keys starting with `prefix`, merged from the batch and what lies below, in order.
  void ScanPrefix(std::string_view prefix,
                  const std::function<bool(std::string_view, std::string_view)>& visit);
  // Visits keys in [start, end) (end empty: no bound), merged the same way, in order, until
  // `visit` returns false. Unlike ScanPrefix it holds nothing beyond the key at hand, so a
  // caller may stop early in a large range at little cost.
  void Scan(std::string_view start, std::string_view end,
            const std::function<bool(std::string_view, std::string_view)>& visit);

  const KvReader& below() const { return below_; }
  // The batch to commit: each key written once, with its last write. Built on the first
  // call after a write, so a record rewritten in the group (an intention signed after it was
  // applied) reaches the database once.
  leveldb::WriteBatch* batch();
  // The batch's writes, for reading by the next group while this one is committed (a
  // LayeredReader); they keep the arena alive. They change only through this view's own Put
  // and Delete.
  std::shared_ptr<const Writes> writes() const {
    return std::shared_ptr<const Writes>(arena_, &arena_->writes);
  }
  const absl::Status& status() const { return status_; }
  // Records an error of work done for this batch elsewhere (say, the sync index), so the
  // owner will not commit it.
  void Fail(const absl::Status& status) {
    if (status_.ok()) status_ = status;
  }
  // About the bytes the batch will hold (every write counted, rewrites included).
  size_t ApproximateSize() const { return bytes_; }
  // True until the first Put or Delete.
  bool empty() const { return arena_->writes.empty(); }

 private:
  // The memory of a view's keys and values, and the maps over them. Allocation only from the
  // owning thread; the maps may be read from others once it is done.
  struct Arena {
    Arena() : memory(kFirstBlockBytes), writes(&memory), read(&memory) {}
    static constexpr size_t kFirstBlockBytes = 64 << 10;
    std::pmr::monotonic_buffer_resource memory;
    Writes writes;
    // Values (or their absence) read from below so far: a group reads some keys more than
    // once (a kv key's heads when its write is built and again when it is applied).
    Writes read;
  };
  // A copy of `bytes` in the arena.
  std::string_view Keep(std::string_view bytes);

  const KvReader& below_;
  std::shared_ptr<Arena> arena_;
  leveldb::WriteBatch batch_;
  bool batch_current_ = true;  // batch_ holds every write
  absl::Status status_;
  size_t bytes_ = 0;
};

}  // namespace lattice::kernel
