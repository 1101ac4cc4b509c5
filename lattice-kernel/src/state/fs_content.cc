#include "state/fs_content.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "lattice/common/fs_limits.h"
#include "lattice/common/status.h"
#include "state/fs_reader.h"

namespace lattice::kernel::fs {
namespace {

void Replace(BatchView& view, uint64_t ino, const std::string& id) {
  if (view.Contains(Key(kVersionTable, ino, id))) {
    view.Delete(Key(kHeadTable, ino, id));
  } else {
    view.Put(Key(kReplacedTable, ino, id), "");
  }
}

bool SameExtent(const v1::FsExtent& a, const v1::FsExtent& b) {
  return a.length() == b.length() && a.hash() == b.hash();
}

std::string ExtentKey(const v1::FsExtent& e) {
  std::string key = Be64(e.length());
  key.append(e.hash());
  return key;
}

}  // namespace

absl::StatusOr<google::protobuf::RepeatedPtrField<v1::FsExtent>> ResolveFsSplices(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& base,
    const google::protobuf::RepeatedPtrField<v1::FsSplice>& splices) {
  const uint64_t n = static_cast<uint64_t>(base.size());
  // Check every splice and count the result before copying anything.
  uint64_t at = 0;
  uint64_t count = n;
  for (int k = 0; k < splices.size(); ++k) {
    const auto& s = splices[k];
    if (s.begin() < at || s.end() < s.begin()) {
      return absl::InvalidArgumentError(
          fmt::format("splice {} is out of order or overlaps the one before it", k));
    }
    if (s.end() > n) {
      return absl::InvalidArgumentError(fmt::format(
          "splice {} ends at extent {} but the base version has {} extents", k, s.end(), n));
    }
    count = count - (s.end() - s.begin()) + static_cast<uint64_t>(s.extents_size());
    at = s.end();
  }
  if (count > limits::kMaxFsExtentsPerVersion) {
    return LimitExceeded("file version", count, limits::kMaxFsExtentsPerVersion, "extents");
  }
  google::protobuf::RepeatedPtrField<v1::FsExtent> out;
  out.Reserve(static_cast<int>(count));
  at = 0;
  for (const auto& s : splices) {
    for (uint64_t i = at; i < s.begin(); ++i) *out.Add() = base[static_cast<int>(i)];
    for (const auto& e : s.extents()) *out.Add() = e;
    at = s.end();
  }
  for (uint64_t i = at; i < n; ++i) *out.Add() = base[static_cast<int>(i)];
  return out;
}

std::vector<v1::FsSplice> FsSplicesBetween(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& base,
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& target) {
  const size_t n = static_cast<size_t>(base.size());
  const size_t m = static_cast<size_t>(target.size());
  auto b = [&](size_t i) -> const v1::FsExtent& { return base[static_cast<int>(i)]; };
  auto t = [&](size_t j) -> const v1::FsExtent& { return target[static_cast<int>(j)]; };
  // The shared head and tail first: after one edit, everything else.
  size_t head = 0;
  while (head < n && head < m && SameExtent(b(head), t(head))) ++head;
  size_t tail = 0;
  while (tail < n - head && tail < m - head && SameExtent(b(n - 1 - tail), t(m - 1 - tail))) {
    ++tail;
  }
  const size_t base_end = n - tail;
  const size_t target_end = m - tail;
  // Between them, the positions of each base extent, to find where the lists agree again.
  std::unordered_map<std::string, std::vector<size_t>> where;
  for (size_t i = head; i < base_end; ++i) where[ExtentKey(b(i))].push_back(i);
  std::vector<v1::FsSplice> out;
  size_t i = head;
  size_t j = head;
  while (i < base_end || j < target_end) {
    if (i < base_end && j < target_end && SameExtent(b(i), t(j))) {
      ++i;
      ++j;
      continue;
    }
    // The next target extent that the base holds at or after i: the lists agree again there.
    size_t next_j = j;
    size_t next_i = base_end;
    for (; next_j < target_end; ++next_j) {
      auto found = where.find(ExtentKey(t(next_j)));
      if (found == where.end()) continue;
      auto p = std::lower_bound(found->second.begin(), found->second.end(), i);
      if (p != found->second.end()) {
        next_i = *p;
        break;
      }
    }
    v1::FsSplice splice;
    splice.set_begin(i);
    splice.set_end(next_i);
    for (size_t k = j; k < next_j; ++k) *splice.add_extents() = t(k);
    out.push_back(std::move(splice));
    i = next_i;
    j = next_j;
  }
  return out;
}

void ApplyFsWrite(BatchView& view, uint64_t ino, const v1::FsVersionRecord& version) {
  const std::string& id = version.version().id();
  for (const auto& replaced : version.replaces()) Replace(view, ino, replaced);
  view.Put(Key(kVersionTable, ino, id), version.SerializeAsString());
  std::string copy = Be64(ino);
  copy.append(id);
  view.Put(Key(kCopyTable, FsConflictCopyId(ino, id)), copy);
  std::string marker = Key(kReplacedTable, ino, id);
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
