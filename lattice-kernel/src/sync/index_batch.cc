#include "sync/index_batch.h"

#include "storage/merged_scan.h"

namespace lattice::kernel::sync {

absl::StatusOr<std::optional<std::string>> IndexBatch::Get(std::string_view key) const {
  if (auto it = overlay_.find(key); it != overlay_.end()) return it->second;
  return committed_.Get(key);
}

absl::Status IndexBatch::Scan(std::string_view start, std::string_view end,
                              const Visitor& visit) const {
  return ScanMerged(overlay_, committed_, start, end, visit);
}

IndexUpdate IndexBatch::Update(uint64_t items_added, const RangeIndexOptions& options) const {
  IndexUpdate update(options, items_added);
  for (const auto& [key, value] : overlay_) {
    if (value.has_value()) update.Record(key, *value);
  }
  return update;
}

void IndexBatch::Put(std::string_view key, std::string_view value) {
  overlay_.insert_or_assign(std::string(key), std::string(value));
  batch_->Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
}

void IndexBatch::Delete(std::string_view key) {
  overlay_.insert_or_assign(std::string(key), std::nullopt);
  batch_->Delete(leveldb::Slice(key.data(), key.size()));
}

}  // namespace lattice::kernel::sync
