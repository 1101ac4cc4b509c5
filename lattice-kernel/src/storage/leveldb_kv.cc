#include "storage/leveldb_kv.h"

#include <memory>

#include "lattice/common/status.h"

namespace lattice::kernel {
namespace {

absl::Status FromLevelDb(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(fmt::format("range index {}: {}", what, s.ToString()));
}

std::string_view ViewOf(const leveldb::Slice& slice) { return {slice.data(), slice.size()}; }

}  // namespace

LevelDbKv::~LevelDbKv() {
  iterator_.reset();
  if (owns_snapshot_) db_->ReleaseSnapshot(snapshot_);
}

std::unique_ptr<LevelDbKv> LevelDbKv::Pinned(leveldb::DB* db) {
  auto kv = std::make_unique<LevelDbKv>(db, db->GetSnapshot());
  kv->owns_snapshot_ = true;
  return kv;
}

absl::StatusOr<std::optional<std::string>> LevelDbKv::Get(std::string_view key) const {
  leveldb::ReadOptions options;
  options.snapshot = snapshot_;
  std::string value;
  leveldb::Status s = db_->Get(options, leveldb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  LATTICE_RETURN_IF_ERROR(FromLevelDb(s, "read"));
  return value;
}

leveldb::Iterator* LevelDbKv::NewIterator() const {
  leveldb::ReadOptions options;
  options.snapshot = snapshot_;
  return db_->NewIterator(options);
}

absl::Status LevelDbKv::Scan(std::string_view start, std::string_view end,
                             const Visitor& visit) const {
  if (!owns_snapshot_ || scanning_) {
    std::unique_ptr<leveldb::Iterator> own(NewIterator());
    own->Seek(leveldb::Slice(start.data(), start.size()));
    return ScanFrom(own.get(), end, visit, nullptr);
  }
  if (iterator_ == nullptr) iterator_.reset(NewIterator());
  leveldb::Iterator* it = iterator_.get();
  // Scans of a reconciliation often start where the one before stopped (the next leaf of
  // the index): the iterator already stands where a seek would put it.
  const bool positioned = resumable_ && start >= resume_from_ &&
                          (!it->Valid() || start <= ViewOf(it->key()));
  if (!positioned) it->Seek(leveldb::Slice(start.data(), start.size()));
  resumable_ = false;
  scanning_ = true;
  resume_from_.assign(start);
  absl::Status status = ScanFrom(it, end, visit, &resume_from_);
  scanning_ = false;
  resumable_ = status.ok();
  return status;
}

absl::Status LevelDbKv::ScanFrom(leveldb::Iterator* it, std::string_view end,
                                 const Visitor& visit, std::string* resume_from) {
  for (; it->Valid(); it->Next()) {
    std::string_view key = ViewOf(it->key());
    if (!end.empty() && key >= end) break;
    if (!visit(key, ViewOf(it->value()))) break;
    if (resume_from != nullptr) {
      // Stepped past `key`: the iterator now stands at the first key at or above the
      // smallest key after it, `key` with a zero byte appended.
      resume_from->assign(key).push_back('\0');
    }
  }
  return FromLevelDb(it->status(), "scan");
}

}  // namespace lattice::kernel
