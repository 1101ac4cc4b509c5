#include "sync/index_batch.h"

namespace lattice::kernel::sync {

absl::StatusOr<std::optional<std::string>> IndexBatch::Get(std::string_view key) const {
  if (auto it = overlay_.find(key); it != overlay_.end()) return it->second;
  return committed_.Get(key);
}

absl::Status IndexBatch::Scan(std::string_view start, std::string_view end,
                              const Visitor& visit) const {
  auto it = overlay_.lower_bound(start);
  auto in_range = [&](decltype(it) i) {
    return i != overlay_.end() && (end.empty() || std::string_view(i->first) < end);
  };
  bool stopped = false;
  absl::Status s = committed_.Scan(start, end, [&](std::string_view key, std::string_view value) {
    while (in_range(it) && std::string_view(it->first) < key) {
      if (!visit(it->first, it->second)) {
        stopped = true;
        return false;
      }
      ++it;
    }
    if (in_range(it) && std::string_view(it->first) == key) {
      bool more = visit(it->first, it->second);  // the batch's value wins
      ++it;
      if (!more) stopped = true;
      return more;
    }
    if (!visit(key, value)) {
      stopped = true;
      return false;
    }
    return true;
  });
  if (!s.ok() || stopped) return s;
  for (; in_range(it); ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return absl::OkStatus();
}

IndexUpdate IndexBatch::Update(const RangeIndexOptions& options) const {
  IndexUpdate update(options);
  for (const auto& [key, value] : overlay_) update.Record(key, value);
  return update;
}

void IndexBatch::Put(std::string_view key, std::string_view value) {
  overlay_.insert_or_assign(std::string(key), std::string(value));
  sink_(key, value);
}

}  // namespace lattice::kernel::sync
