#include "storage/leveldb_kv.h"

#include <memory>

#include "lattice/common/status.h"

namespace lattice::kernel {
namespace {

absl::Status FromLevelDb(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(fmt::format("range index {}: {}", what, s.ToString()));
}

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
  std::unique_ptr<leveldb::Iterator> own;
  leveldb::Iterator* it = nullptr;
  const bool shared = owns_snapshot_ && !scanning_;
  if (shared) {
    if (iterator_ == nullptr) iterator_.reset(NewIterator());
    it = iterator_.get();
    scanning_ = true;
  } else {
    own.reset(NewIterator());
    it = own.get();
  }
  absl::Status status = ScanWith(it, start, end, visit);
  if (shared) scanning_ = false;
  return status;
}

absl::Status LevelDbKv::ScanWith(leveldb::Iterator* it, std::string_view start,
                                 std::string_view end, const Visitor& visit) {
  for (it->Seek(leveldb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!end.empty() && key >= end) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromLevelDb(it->status(), "scan");
}

}  // namespace lattice::kernel
