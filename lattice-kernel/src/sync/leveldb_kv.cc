#include "sync/leveldb_kv.h"

#include <memory>

#include "lattice/common/status.h"

namespace lattice::kernel::sync {
namespace {

absl::Status FromLevelDb(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(fmt::format("range index {}: {}", what, s.ToString()));
}

}  // namespace

LevelDbKv::~LevelDbKv() {
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

absl::Status LevelDbKv::Scan(std::string_view start, std::string_view end,
                             const Visitor& visit) const {
  leveldb::ReadOptions options;
  options.snapshot = snapshot_;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  for (it->Seek(leveldb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!end.empty() && key >= end) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromLevelDb(it->status(), "scan");
}

}  // namespace lattice::kernel::sync
