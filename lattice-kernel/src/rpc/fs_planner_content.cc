// FsPlanner: the changes of a file's content and attributes (SetAttr, Commit, Restore, the
// xattr calls), and the extent arithmetic they share (cuts, resizes, checks). Names and the
// tree (Create, Link, Remove, Rename) are in fs_planner.cc.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/quote.h"
#include "rpc/fs_planner.h"
#include "state/fs_content.h"
#include "state/fs_payload.h"

namespace lattice::kernel {
namespace {

constexpr uint32_t kXattrCreate = 1;
constexpr uint32_t kXattrReplace = 2;
constexpr size_t kHashBytes = 32;

std::string Shown(std::string_view name) { return Quote(name); }

bool IsDir(uint32_t mode) { return S_ISDIR(mode); }

// Sends `write` (in full form) as a delta of `base` when that is smaller: splices of the
// base's extent list instead of every extent, which for a small edit of a large file is a
// few extents instead of thousands. The state machine resolves it against the base and keeps
// the full list; the store cites the base's intention, as the state machine requires.
void UseDeltaIfSmaller(v1::FsWrite* write, const v1::FsVersion& base) {
  if (base.id().size() != kFsVersionIdBytes) return;
  std::vector<v1::FsSplice> splices = fs::FsSplicesBetween(base.extents(), write->extents());
  if (splices.size() > limits::kMaxFsSplicesPerWrite) return;
  const size_t full_bytes = write->ByteSizeLong();
  google::protobuf::RepeatedPtrField<v1::FsExtent> full;
  full.Swap(write->mutable_extents());
  write->set_base(base.id());
  for (auto& splice : splices) *write->add_splices() = std::move(splice);
  if (write->ByteSizeLong() < full_bytes) return;
  write->clear_base();
  write->clear_splices();
  full.Swap(write->mutable_extents());
}

}  // namespace

absl::Status CheckFsTime(const v1::FsTime& time) {
  if (time.nsec() >= 1'000'000'000u) return FsError(EINVAL, "nanoseconds must be below 1e9");
  return absl::OkStatus();
}

std::optional<std::pair<std::string, uint64_t>> FsCutNeeded(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents, uint64_t size) {
  uint64_t at = 0;
  for (const auto& extent : extents) {
    if (at >= size) break;
    if (at + extent.length() > size) {
      if (extent.hash().empty()) return std::nullopt;  // a hole is cut freely
      return std::make_pair(extent.hash(), size - at);
    }
    at += extent.length();
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<v1::FsExtent>> FsResizeExtents(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents, uint64_t size,
    const FsCutChunks& cut) {
  std::vector<v1::FsExtent> out;
  uint64_t at = 0;
  for (const auto& extent : extents) {
    if (at >= size) break;
    if (at + extent.length() <= size) {
      out.push_back(extent);
      at += extent.length();
      continue;
    }
    uint64_t keep = size - at;
    v1::FsExtent part;
    part.set_length(keep);
    if (!extent.hash().empty()) {
      auto it = cut.find({extent.hash(), keep});
      if (it == cut.end()) {
        return FsError(EAGAIN, "the file changed while it was being truncated; try again");
      }
      part.set_hash(it->second);
    }
    out.push_back(std::move(part));
    at = size;
  }
  if (at < size) {
    if (!out.empty() && out.back().hash().empty()) {
      out.back().set_length(out.back().length() + (size - at));
    } else {
      v1::FsExtent hole;
      hole.set_length(size - at);
      out.push_back(std::move(hole));
    }
  }
  if (out.size() > limits::kMaxFsExtentsPerVersion) {
    return FsError(EFBIG, "the truncated file would have too many extents");
  }
  return out;
}

absl::Status CheckFsExtents(const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents,
                            uint64_t size) {
  if (size > limits::kMaxFsFileBytes) {
    return FsError(EFBIG, fmt::format("a file holds at most {} bytes; this one would have {}",
                                      limits::kMaxFsFileBytes, size));
  }
  if (static_cast<size_t>(extents.size()) > limits::kMaxFsExtentsPerVersion) {
    return FsError(EFBIG, fmt::format("a version lists at most {} extents; this one has {}",
                                      limits::kMaxFsExtentsPerVersion, extents.size()));
  }
  uint64_t total = 0;
  for (int i = 0; i < extents.size(); ++i) {
    const auto& extent = extents[i];
    if (!extent.hash().empty() && extent.hash().size() != kHashBytes) {
      return FsError(EINVAL, fmt::format("extent {} has a hash of {} bytes; a chunk hash has {}",
                                         i, extent.hash().size(), kHashBytes));
    }
    if (extent.length() == 0) return FsError(EINVAL, fmt::format("extent {} is empty", i));
    if (!extent.hash().empty() && extent.length() > limits::kFsChunkMaxBytes) {
      return FsError(EINVAL, fmt::format("extent {} is a chunk of {} bytes; chunks hold at most {}",
                                         i, extent.length(), limits::kFsChunkMaxBytes));
    }
    if (extent.length() > limits::kMaxFsFileBytes || total + extent.length() > size) {
      return FsError(EINVAL, fmt::format("the extents hold more than the size, {} bytes", size));
    }
    total += extent.length();
  }
  if (total != size) {
    return FsError(EINVAL, fmt::format("the extents hold {} bytes but the size is {}", total, size));
  }
  return absl::OkStatus();
}
absl::StatusOr<FsPlan> FsPlanner::SetAttr(const v1::FsSetAttrRequest& request,
                                         const FsCutChunks& cut) {
  auto inode = InodeOf(request.ino(), false);
  if (!inode.ok()) return inode.status();
  if (inode->conflict_copy) {
    return FsError(EROFS, fmt::format("inode {} is a conflict copy, which is read-only", request.ino()));
  }
  uint32_t mode = inode->attr.mode();
  bool is_dir = IsDir(mode);
  FsPlan plan;
  plan.inode = request.ino();
  if (request.has_size()) {
    if (is_dir) return FsError(EISDIR, fmt::format("inode {} is a directory", request.ino()));
    if (!S_ISREG(mode)) return FsError(EINVAL, fmt::format("inode {} is not a regular file", request.ino()));
    if (request.size() > limits::kMaxFsFileBytes) {
      return FsError(EFBIG, fmt::format("a file holds at most {} bytes", limits::kMaxFsFileBytes));
    }
    if (request.size() != inode->size || !inode->winner) {
      google::protobuf::RepeatedPtrField<v1::FsExtent> none;
      const auto& extents = inode->winner ? inode->winner->extents() : none;
      auto resized = FsResizeExtents(extents, request.size(), cut);
      if (!resized.ok()) return resized.status();
      auto* write = plan.payload.add_ops()->mutable_write();
      write->set_inode(request.ino());
      for (auto& e : *resized) *write->add_extents() = std::move(e);
      write->set_size(request.size());
      if (inode->winner) write->add_replaces(inode->winner->id());
      *write->mutable_mtime() = now_;
      *write->mutable_ctime() = now_;
      if (inode->winner) UseDeltaIfSmaller(write, *inode->winner);
    }
  }
  v1::FsSetAttr set;
  set.set_inode(request.ino());
  bool chown = request.has_uid() || request.has_gid();
  if (request.has_mode()) set.set_mode(request.mode() & 07777);
  if (request.has_uid()) set.set_uid(request.uid());
  if (request.has_gid()) set.set_gid(request.gid());
  // chown drops setuid and setgid (as Linux does, even for root). A write or truncate does
  // not here: the VFS above lattice-fuse sends that mode change itself, and only for a
  // caller without CAP_FSETID, so a write committed later (at close) must not undo a chmod
  // made after it, as cp -a and tar do.
  if (chown && !is_dir) {
    uint32_t perms = set.has_mode() ? set.mode() : (mode & 07777);
    if (perms & 06000) set.set_mode(perms & ~06000u);
  }
  if (request.has_atime()) *set.mutable_atime() = request.atime();
  if (request.atime_now()) *set.mutable_atime() = now_;
  if (request.has_mtime()) *set.mutable_mtime() = request.mtime();
  if (request.mtime_now()) *set.mutable_mtime() = now_;
  for (const v1::FsTime* t : {&set.atime(), &set.mtime()}) {
    if (auto s = CheckFsTime(*t); !s.ok()) return s;
  }
  *set.mutable_ctime() = now_;
  *plan.payload.add_ops()->mutable_set_attr() = std::move(set);
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::Commit(const v1::FsCommitRequest& request) {
  if (auto s = CheckFsExtents(request.extents(), request.size()); !s.ok()) return s;
  auto inode = WritableFileOf(request.ino());
  if (!inode.ok()) return inode.status();
  std::optional<v1::FsVersion> base;
  if (!request.based_on().empty()) {
    auto version = reader_.Version(request.ino(), request.based_on());
    if (!version.ok()) return version.status();
    if (!version->has_value()) {
      return FsError(EINVAL, fmt::format("inode {} has no version {} to base a new one on",
                                         request.ino(), ToHex(request.based_on())));
    }
    base = *std::move(*version);
  }
  if (auto s = CheckFsTime(request.mtime()); !s.ok()) return s;
  if (auto s = CheckFsTime(request.ctime()); !s.ok()) return s;
  // Never before the ctime the file has now (another client's change meanwhile).
  v1::FsTime ctime = now_;
  if (request.has_ctime()) {
    const v1::FsTime& now_shown = inode->attr.ctime();
    const bool earlier = std::make_pair(request.ctime().sec(), request.ctime().nsec()) <
                         std::make_pair(now_shown.sec(), now_shown.nsec());
    ctime = earlier ? now_shown : request.ctime();
  }
  FsPlan plan;
  plan.inode = request.ino();
  auto* write = plan.payload.add_ops()->mutable_write();
  write->set_inode(request.ino());
  *write->mutable_extents() = request.extents();
  write->set_size(request.size());
  if (!request.based_on().empty()) write->add_replaces(request.based_on());
  *write->mutable_mtime() = request.has_mtime() ? request.mtime() : now_;
  *write->mutable_ctime() = ctime;
  if (base) UseDeltaIfSmaller(write, *base);
  if (request.has_attrs()) {
    // As given: the writer folded its calls in their order (a chown there dropped setuid
    // and setgid; a chmod after it may set them again, as tar does).
    const v1::FsAttrChange& attrs = request.attrs();
    if (auto s = CheckFsTime(attrs.atime()); !s.ok()) return s;
    v1::FsSetAttr* set = plan.payload.add_ops()->mutable_set_attr();
    set->set_inode(request.ino());
    if (attrs.has_mode()) set->set_mode(attrs.mode() & 07777);
    if (attrs.has_uid()) set->set_uid(attrs.uid());
    if (attrs.has_gid()) set->set_gid(attrs.gid());
    if (attrs.has_atime()) *set->mutable_atime() = attrs.atime();
    *set->mutable_ctime() = ctime;
  }
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::Restore(const v1::FsRestoreRequest& request) {
  auto inode = WritableFileOf(request.ino());
  if (!inode.ok()) return inode.status();
  auto version = reader_.Version(request.ino(), request.version());
  if (!version.ok()) return version.status();
  if (!version->has_value()) {
    return FsError(ENOENT, fmt::format("inode {} has no version {}", request.ino(),
                                       ToHex(request.version())));
  }
  FsPlan plan;
  plan.inode = request.ino();
  auto* write = plan.payload.add_ops()->mutable_write();
  write->set_inode(request.ino());
  *write->mutable_extents() = (*version)->extents();
  write->set_size((*version)->size());
  if (inode->winner) write->add_replaces(inode->winner->id());
  *write->mutable_mtime() = now_;
  *write->mutable_ctime() = now_;
  UseDeltaIfSmaller(write, **version);  // the restored version itself: no splices at all
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::SetXattr(const v1::FsXattrRequest& request) {
  if (request.name().empty()) return FsError(EINVAL, "an extended attribute needs a name");
  if (request.name().size() > limits::kMaxFsXattrNameBytes) {
    return FsError(ERANGE, fmt::format("an extended attribute's name is at most {} bytes",
                                       limits::kMaxFsXattrNameBytes));
  }
  if (request.name().find('\0') != std::string::npos) {
    return FsError(EINVAL, "an extended attribute's name may not hold a NUL byte");
  }
  if (request.value().size() > limits::kMaxFsXattrValueBytes) {
    return FsError(ERANGE, fmt::format("an extended attribute's value is at most {} bytes",
                                      limits::kMaxFsXattrValueBytes));
  }
  if ((request.flags() & ~(kXattrCreate | kXattrReplace)) != 0 ||
      request.flags() == (kXattrCreate | kXattrReplace)) {
    return FsError(EINVAL, "xattr flags are XATTR_CREATE (1) or XATTR_REPLACE (2)");
  }
  auto inode = InodeOf(request.ino(), false);
  if (!inode.ok()) return inode.status();
  if (inode->conflict_copy) return FsError(EROFS, "a conflict copy is read-only");
  auto existing = reader_.Xattr(request.ino(), request.name());
  if (!existing.ok()) return existing.status();
  if ((request.flags() & kXattrCreate) && existing->has_value()) {
    return FsError(EEXIST, fmt::format("{} is set already", Shown(request.name())));
  }
  if ((request.flags() & kXattrReplace) && !existing->has_value()) {
    return FsError(ENODATA, fmt::format("no extended attribute {}", Shown(request.name())));
  }
  if (!existing->has_value()) {
    auto names = reader_.XattrNames(request.ino());
    if (!names.ok()) return names.status();
    if (names->size() >= limits::kMaxFsXattrsPerInode) {
      return FsError(ENOSPC, fmt::format("an inode has at most {} extended attributes",
                                         limits::kMaxFsXattrsPerInode));
    }
  }
  FsPlan plan;
  plan.inode = request.ino();
  auto* set = plan.payload.add_ops()->mutable_set_xattr();
  set->set_inode(request.ino());
  set->set_name(request.name());
  set->set_value(request.value());
  TouchCtime(plan, request.ino());
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::RemoveXattr(const v1::FsXattrRequest& request) {
  if (request.name().empty() || request.name().size() > limits::kMaxFsXattrNameBytes) {
    return FsError(ENODATA, fmt::format("no extended attribute {}", Shown(request.name())));
  }
  auto inode = InodeOf(request.ino(), false);
  if (!inode.ok()) return inode.status();
  if (inode->conflict_copy) return FsError(EROFS, "a conflict copy is read-only");
  auto existing = reader_.Xattr(request.ino(), request.name());
  if (!existing.ok()) return existing.status();
  if (!existing->has_value()) {
    return FsError(ENODATA, fmt::format("no extended attribute {}", Shown(request.name())));
  }
  FsPlan plan;
  plan.inode = request.ino();
  auto* set = plan.payload.add_ops()->mutable_set_xattr();
  set->set_inode(request.ino());
  set->set_name(request.name());
  set->set_remove(true);
  TouchCtime(plan, request.ino());
  return plan;
}


}  // namespace lattice::kernel
