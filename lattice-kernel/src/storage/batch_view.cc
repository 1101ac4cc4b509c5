#include "storage/batch_view.h"

#include "storage/keys.h"

namespace lattice::kernel {
namespace {

// What LevelDB's WriteBatch adds to each record besides its key and value: a tag and two
// length prefixes.
constexpr size_t kRecordOverheadBytes = 8;

}  // namespace

std::optional<std::string> BatchView::Get(std::string_view key) {
  if (auto it = writes_->find(key); it != writes_->end()) return it->second;
  if (auto it = read_.find(key); it != read_.end()) return it->second;
  auto value = below_.Get(key);
  if (!value.ok()) {
    if (status_.ok()) status_ = value.status();
    return std::nullopt;
  }
  read_.emplace(std::string(key), *value);
  return *std::move(value);
}

void BatchView::Put(std::string_view key, std::string_view value) {
  writes_->insert_or_assign(std::string(key), std::optional<std::string>(value));
  bytes_ += key.size() + value.size() + kRecordOverheadBytes;
  batch_current_ = false;
}

void BatchView::Delete(std::string_view key) {
  writes_->insert_or_assign(std::string(key), std::nullopt);
  bytes_ += key.size() + kRecordOverheadBytes;
  batch_current_ = false;
}

leveldb::WriteBatch* BatchView::batch() {
  if (!batch_current_) {
    batch_.Clear();
    for (const auto& [key, value] : *writes_) {
      leveldb::Slice k(key.data(), key.size());
      if (value) {
        batch_.Put(k, leveldb::Slice(value->data(), value->size()));
      } else {
        batch_.Delete(k);
      }
    }
    batch_current_ = true;
  }
  return &batch_;
}

void BatchView::ScanPrefix(std::string_view prefix,
                           const std::function<bool(std::string_view, std::string_view)>& visit) {
  std::map<std::string, std::string, std::less<>> merged;
  std::string end = keys::PrefixEnd(prefix);
  absl::Status s = below_.Scan(prefix, end, [&](std::string_view k, std::string_view v) {
    merged.emplace(std::string(k), std::string(v));
    return true;
  });
  if (!s.ok() && status_.ok()) status_ = s;
  for (auto it = writes_->lower_bound(prefix); it != writes_->end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->second) merged[it->first] = *it->second; else merged.erase(it->first);
  }
  for (const auto& [k, v] : merged) {
    if (!visit(k, v)) break;
  }
}

void BatchView::Scan(std::string_view start, std::string_view end,
                     const std::function<bool(std::string_view, std::string_view)>& visit) {
  absl::Status s = ScanMerged(*writes_, below_, start, end, visit);
  if (!s.ok() && status_.ok()) status_ = s;
}

absl::Status ScanMerged(const BatchView::Writes& writes, const sync::KvReader& below,
                        std::string_view start, std::string_view end,
                        const std::function<bool(std::string_view, std::string_view)>& visit) {
  auto in_range = [&](const std::string& key) { return end.empty() || key < end; };
  auto it = writes.lower_bound(start);
  bool stopped = false;
  // Visits the writes below `bound` (all of them when null); false once stopped.
  auto drain = [&](const std::string_view* bound) {
    for (; it != writes.end() && in_range(it->first); ++it) {
      if (bound != nullptr && it->first >= *bound) break;
      if (it->second && !visit(it->first, *it->second)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  absl::Status s = below.Scan(start, end, [&](std::string_view k, std::string_view v) {
    if (!drain(&k)) return false;
    if (it != writes.end() && it->first == k) {
      // The write shadows the value below.
      const std::optional<std::string>& write = it->second;
      ++it;
      if (!write) return true;
      if (!visit(k, *write)) {
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
  if (!s.ok()) return s;
  if (!stopped) drain(nullptr);
  return absl::OkStatus();
}

}  // namespace lattice::kernel
