#include "storage/batch_view.h"

#include "storage/keys.h"

namespace lattice::kernel {

std::optional<std::string> BatchView::Get(std::string_view key) {
  if (auto it = overlay_.find(key); it != overlay_.end()) return it->second;
  if (auto it = read_.find(key); it != read_.end()) return it->second;
  auto value = db_.Get(key);
  if (!value.ok()) {
    if (status_.ok()) status_ = value.status();
    return std::nullopt;
  }
  read_.emplace(std::string(key), *value);
  return *std::move(value);
}

void BatchView::Put(std::string_view key, std::string_view value) {
  batch_.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
  overlay_[std::string(key)] = std::string(value);
  ++writes_;
}

void BatchView::Delete(std::string_view key) {
  batch_.Delete(leveldb::Slice(key.data(), key.size()));
  overlay_[std::string(key)] = std::nullopt;
  ++writes_;
}

void BatchView::ScanPrefix(std::string_view prefix,
                           const std::function<bool(std::string_view, std::string_view)>& visit) {
  std::map<std::string, std::string, std::less<>> merged;
  std::string end = keys::PrefixEnd(prefix);
  absl::Status s = db_.Scan(prefix, end, [&](std::string_view k, std::string_view v) {
    merged.emplace(std::string(k), std::string(v));
    return true;
  });
  if (!s.ok() && status_.ok()) status_ = s;
  for (auto it = overlay_.lower_bound(prefix); it != overlay_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->second) merged[it->first] = *it->second; else merged.erase(it->first);
  }
  for (const auto& [k, v] : merged) {
    if (!visit(k, v)) break;
  }
}

void BatchView::Scan(std::string_view start, std::string_view end,
                     const std::function<bool(std::string_view, std::string_view)>& visit) {
  auto in_range = [&](const std::string& key) { return end.empty() || key < end; };
  auto it = overlay_.lower_bound(start);
  bool stopped = false;
  // Visits the batch's own keys below `bound` (all of them when null); false once stopped.
  auto drain = [&](const std::string_view* bound) {
    for (; it != overlay_.end() && in_range(it->first); ++it) {
      if (bound != nullptr && it->first >= *bound) break;
      if (it->second && !visit(it->first, *it->second)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  absl::Status s = db_.Scan(start, end, [&](std::string_view k, std::string_view v) {
    if (!drain(&k)) return false;
    if (it != overlay_.end() && it->first == k) {
      // The batch's write shadows the database's value.
      bool deleted = !it->second;
      std::string value = deleted ? std::string() : *it->second;
      ++it;
      if (deleted) return true;
      if (!visit(k, value)) {
        stopped = true;
        return false;
      }
      return true;
    }
    if (!visit(k, v)) {
      stopped = true;
      return false;
    }
    return true;
  });
  if (!s.ok() && status_.ok()) status_ = s;
  if (!stopped) drain(nullptr);
}

}  // namespace lattice::kernel
