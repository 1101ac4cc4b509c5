#include "store/index_writer.h"

#include "storage/merged_scan.h"

namespace lattice::kernel {

const std::string* IndexBucketCache::Find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void IndexBucketCache::Store(const std::string& key, const std::string& value) {
  if (entries_.size() >= kMaxEntries && entries_.find(key) == entries_.end()) entries_.clear();
  entries_.insert_or_assign(key, value);
}

absl::StatusOr<std::optional<std::string>> GroupIndexWriter::Get(std::string_view key) const {
  if (auto it = writes_.find(key); it != writes_.end()) return it->second;
  if (!IsBucket(key)) return below_.Get(key);
  // Buckets enter the cache when their group is built (FlushTo): the index rewrites every
  // bucket it reads, so there is no need to cache reads.
  if (const std::string* cached = cache_.Find(std::string(key))) return *cached;
  return below_.Get(key);
}

absl::Status GroupIndexWriter::Scan(std::string_view start, std::string_view end,
                                    const Visitor& visit) const {
  // The group's writes merged over the keys below (which hold every index record of the
  // groups before; the cache only repeats some of them), the group's value winning.
  return ScanMerged(writes_, below_, start, end, visit);
}

void GroupIndexWriter::Put(std::string_view key, std::string_view value) {
  writes_.insert_or_assign(std::string(key), std::string(value));
}

void GroupIndexWriter::Delete(std::string_view key) {
  writes_.insert_or_assign(std::string(key), std::nullopt);
}

void GroupIndexWriter::FlushTo(BatchView& view) {
  for (const auto& [key, value] : writes_) {
    if (!value.has_value()) {
      // Only leaf records are deleted (a leaf that split), never a bucket.
      view.Delete(key);
      continue;
    }
    view.Put(key, *value);
    if (IsBucket(key)) cache_.Store(key, *value);
  }
}

sync::IndexUpdate GroupIndexWriter::Update(uint64_t items_added,
                                           const sync::RangeIndexOptions& options) const {
  sync::IndexUpdate update(options, items_added);
  for (const auto& [key, value] : writes_) {
    if (value.has_value()) update.Record(key, *value);
  }
  return update;
}

}  // namespace lattice::kernel
