#include "state/fs_content.h"

#include <algorithm>

#include "lattice/common/status.h"
#include "state/fs_reader.h"

namespace lattice::kernel::fs {
namespace {

void Replace(BatchView& view, uint64_t ino, const std::string& id) {
  if (view.Contains(Key(kVersionTable, ino, id))) {
    view.Delete(Key(kHeadTable, ino, id));
  } else {
    view.Put(TablePrefix(kReplacedTable) + id, "");
  }
}

}  // namespace

void ApplyFsWrite(BatchView& view, uint64_t ino, const v1::FsVersionRecord& version) {
  const std::string& id = version.version().id();
  for (const auto& replaced : version.replaces()) Replace(view, ino, replaced);
  view.Put(Key(kVersionTable, ino, id), version.SerializeAsString());
  std::string copy = Be64(ino);
  copy.append(id);
  view.Put(Key(kCopyTable, FsConflictCopyId(ino, id)), copy);
  std::string marker = TablePrefix(kReplacedTable) + id;
  if (view.Contains(marker)) {
    view.Delete(marker);
  } else {
    view.Put(Key(kHeadTable, ino, id), "");
  }
}

void ApplyFsResolve(BatchView& view, uint64_t ino,
                    const google::protobuf::RepeatedPtrField<std::string>& versions) {
  for (const auto& id : versions) Replace(view, ino, id);
}

bool FsVersionWins(const v1::FsVersion& a, const v1::FsVersion& b) {
  if (a.hlc().wall_ms() != b.hlc().wall_ms()) return a.hlc().wall_ms() > b.hlc().wall_ms();
  if (a.hlc().counter() != b.hlc().counter()) return a.hlc().counter() > b.hlc().counter();
  if (a.author() != b.author()) return a.author() > b.author();
  return a.id() > b.id();
}

absl::StatusOr<std::vector<v1::FsVersion>> ReadFsHeads(const FsSource& source, uint64_t ino) {
  std::vector<std::string> ids;
  std::string prefix = Key(kHeadTable, ino);
  LATTICE_RETURN_IF_ERROR(source.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  }));
  std::vector<v1::FsVersion> heads;
  for (const auto& id : ids) {
    v1::FsVersionRecord record;
    LATTICE_ASSIGN_OR_RETURN(bool found, source.Read(Key(kVersionTable, ino, id), &record));
    if (!found) return absl::DataLossError("a head of a file has no version record");
    heads.push_back(std::move(*record.mutable_version()));
  }
  std::sort(heads.begin(), heads.end(), FsVersionWins);
  return heads;
}

absl::StatusOr<std::vector<v1::FsVersionRecord>> ReadFsVersions(const FsSource& source,
                                                                uint64_t ino) {
  std::vector<v1::FsVersionRecord> out;
  absl::Status parse = absl::OkStatus();
  LATTICE_RETURN_IF_ERROR(
      source.ScanPrefix(Key(kVersionTable, ino), [&](std::string_view, std::string_view value) {
        v1::FsVersionRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError("a version record of a file does not parse");
          return false;
        }
        out.push_back(std::move(record));
        return true;
      }));
  LATTICE_RETURN_IF_ERROR(parse);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return FsVersionWins(a.version(), b.version());
  });
  return out;
}

}  // namespace lattice::kernel::fs
