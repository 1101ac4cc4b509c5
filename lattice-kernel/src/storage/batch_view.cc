#include "storage/batch_view.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "storage/keys.h"
#include "storage/merged_scan.h"

namespace lattice::kernel {
namespace {

// What LevelDB's WriteBatch adds to each record besides its key and value: a tag and two
// length prefixes.
constexpr size_t kRecordOverheadBytes = 8;

}  // namespace

BatchView::BatchView(const KvReader& below)
    : below_(below), arena_(std::make_shared<Arena>()) {}

std::string_view BatchView::Keep(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* copy = static_cast<char*>(arena_->memory.allocate(bytes.size(), 1));
  std::memcpy(copy, bytes.data(), bytes.size());
  return {copy, bytes.size()};
}

std::optional<std::string> BatchView::Get(std::string_view key) {
  auto copy = [](const std::optional<std::string_view>& value) {
    return value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
  };
  if (auto it = arena_->writes.find(key); it != arena_->writes.end()) return copy(it->second);
  if (auto it = arena_->read.find(key); it != arena_->read.end()) return copy(it->second);
  auto value = below_.Get(key);
  if (!value.ok()) {
    if (status_.ok()) status_ = value.status();
    return std::nullopt;
  }
  std::optional<std::string_view> kept;
  if (*value) kept = Keep(**value);
  arena_->read.emplace(Keep(key), kept);
  return *std::move(value);
}

void BatchView::Prefetch(std::vector<std::string_view> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::erase_if(keys, [&](std::string_view key) {
    return arena_->writes.contains(key) || arena_->read.contains(key);
  });
  absl::Status s = below_.GetSorted(keys, [&](size_t i, std::optional<std::string_view> value) {
    std::optional<std::string_view> kept;
    if (value) kept = Keep(*value);
    arena_->read.emplace(Keep(keys[i]), kept);
  });
  if (!s.ok() && status_.ok()) status_ = s;
}

void BatchView::Put(std::string_view key, std::string_view value) {
  auto it = arena_->writes.find(key);
  if (it == arena_->writes.end()) {
    arena_->writes.emplace(Keep(key), Keep(value));
  } else {
    it->second = Keep(value);
  }
  bytes_ += key.size() + value.size() + kRecordOverheadBytes;
  batch_current_ = false;
}

void BatchView::Delete(std::string_view key) {
  auto it = arena_->writes.find(key);
  if (it == arena_->writes.end()) {
    arena_->writes.emplace(Keep(key), std::nullopt);
  } else {
    it->second = std::nullopt;
  }
  bytes_ += key.size() + kRecordOverheadBytes;
  batch_current_ = false;
}

leveldb::WriteBatch* BatchView::batch() {
  if (!batch_current_) {
    batch_.Clear();
    for (const auto& [key, value] : arena_->writes) {
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
  // Copied before any visit, so that `visit` may write to this view.
  std::vector<std::pair<std::string, std::string>> merged;
  absl::Status s = ScanMerged(arena_->writes, below_, prefix, keys::PrefixEnd(prefix),
                              [&](std::string_view k, std::string_view v) {
                                merged.emplace_back(k, v);
                                return true;
                              });
  if (!s.ok() && status_.ok()) status_ = s;
  for (const auto& [k, v] : merged) {
    if (!visit(k, v)) break;
  }
}

void BatchView::Scan(std::string_view start, std::string_view end,
                     const std::function<bool(std::string_view, std::string_view)>& visit) {
  absl::Status s = ScanMerged(arena_->writes, below_, start, end, visit);
  if (!s.ok() && status_.ok()) status_ = s;
}

}  // namespace lattice::kernel
