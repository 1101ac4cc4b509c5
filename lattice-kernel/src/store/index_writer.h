// The sync index's view of one group's batch (sync/range_index.h writes through it): reads
// see the group's own index writes, then the buckets written by earlier groups, then what
// lies below the group (the database, with the previous group's writes while it commits);
// the writes reach the group's batch once, at the end of the group.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "storage/batch_view.h"
#include "storage/kv_view.h"
#include "sync/resident_trie.h"

namespace lattice::kernel {

// Bucket records of the sync index as the last groups built left them (the next group is
// built while the last one commits). The upper buckets of the trie are on the path of
// every intention, so each group would otherwise read them back from LevelDB. Bounded by
// kMaxEntries (cleared when full). Owned by the store's writer, like the rest of
// WriterState; cleared whenever that state is reloaded (after a failed commit).
class IndexBucketCache {
 public:
  static constexpr size_t kMaxEntries = 4096;

  const std::string* Find(const std::string& key) const;
  void Store(const std::string& key, const std::string& value);
  void Clear() { entries_.clear(); }

 private:
  std::unordered_map<std::string, std::string> entries_;
};

// Lives for one group on the writer's thread. REQUIRES: only the sync index writes the
// index's table, through this writer, and nothing but the previous group's commit writes
// the database during the group (`below` shows that group's writes).
class GroupIndexWriter final : public KvWriter {
 public:
  // `bucket_prefix`: the keys of bucket records (the index's table byte, then 'a').
  GroupIndexWriter(const KvReader& below, IndexBucketCache& cache, std::string bucket_prefix)
      : below_(below), cache_(cache), bucket_prefix_(std::move(bucket_prefix)) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;

  // Puts the group's index writes into `view`, each key once, and makes its bucket records
  // what the cache holds for the groups after it. REQUIRES: the last Put.
  void FlushTo(BatchView& view);
  // What the group changes in the index, which added `items_added` items, for its resident
  // levels once the batch is committed.
  sync::IndexUpdate Update(uint64_t items_added, const sync::RangeIndexOptions& options) const;

 private:
  bool IsBucket(std::string_view key) const { return key.substr(0, bucket_prefix_.size()) == bucket_prefix_; }

  const KvReader& below_;
  IndexBucketCache& cache_;
  std::string bucket_prefix_;
  std::map<std::string, std::optional<std::string>, std::less<>> writes_;  // nullopt: deleted
};

}  // namespace lattice::kernel
