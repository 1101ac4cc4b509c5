// FsPlanner: names and the tree (Create, Link, Remove, Rename) and the reads they share.
// Content and attributes are planned in fs_planner_content.cc.
#include "rpc/fs_planner.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <ctime>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_ids.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/quote.h"
#include "state/fs_content.h"
#include "state/fs_payload.h"

namespace lattice::kernel {
namespace {

constexpr uint32_t kRenameNoReplace = 1;
constexpr uint32_t kRenameExchange = 2;

std::string Shown(std::string_view name) { return Quote(name); }

bool IsDir(uint32_t mode) { return S_ISDIR(mode); }

void AddVersions(const FsInode& inode, v1::FsMove* move) {
  if (inode.winner) move->add_seen_versions(inode.winner->id());
  for (const auto& head : inode.other_heads) move->add_seen_versions(head.id());
}

}  // namespace

absl::Status CheckFsCallName(std::string_view name) {
  if (name.empty()) return FsError(EINVAL, "a name may not be empty");
  if (name.size() > limits::kMaxFsNameBytes) {
    return FsError(ENAMETOOLONG, fmt::format("a name is at most {} bytes; this one has {}",
                                             limits::kMaxFsNameBytes, name.size()));
  }
  if (name == "." || name == "..") {
    return FsError(EINVAL, fmt::format("{} names a directory itself or its parent, never an entry",
                                       Shown(name)));
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return FsError(EINVAL, fmt::format("{} holds a '/' or a NUL byte, which no name may",
                                       Shown(name)));
  }
  return absl::OkStatus();
}

v1::FsTime FsNow() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  v1::FsTime t;
  t.set_sec(ts.tv_sec);
  t.set_nsec(static_cast<uint32_t>(ts.tv_nsec));
  return t;
}


absl::StatusOr<FsInode> FsPlanner::InodeOf(uint64_t ino, bool live_only) const {
  if (ino == kFsTrashId || ino == 0 || IsFsOpRef(ino)) {
    return FsError(ENOENT, fmt::format("no inode {}", ino));
  }
  if (auto made = minted_.find(ino); made != minted_.end()) return made->second;
  auto inode = reader_.Inode(ino);
  if (!inode.ok()) return inode.status();
  if (!inode->has_value() || (live_only && !(*inode)->live)) {
    return FsError(ENOENT, fmt::format("no inode {}", ino));
  }
  return **std::move(inode);
}

absl::StatusOr<FsInode> FsPlanner::DirectoryOf(uint64_t ino) const {
  auto inode = InodeOf(ino, true);
  if (!inode.ok()) return inode.status();
  if (!IsDir(inode->attr.mode())) {
    return FsError(ENOTDIR, fmt::format("inode {} is not a directory", ino));
  }
  return inode;
}

absl::StatusOr<FsInode> FsPlanner::WritableFileOf(uint64_t ino) const {
  auto inode = InodeOf(ino, false);
  if (!inode.ok()) return inode.status();
  if (IsDir(inode->attr.mode())) {
    return FsError(EISDIR, fmt::format("inode {} is a directory", ino));
  }
  if (!S_ISREG(inode->attr.mode())) {
    return FsError(EINVAL, fmt::format("inode {} is not a regular file", ino));
  }
  if (inode->conflict_copy) {
    return FsError(EROFS, fmt::format("inode {} is a conflict copy, which is read-only; copy it "
                                      "to keep its content",
                                      ino));
  }
  return inode;
}

absl::StatusOr<bool> FsPlanner::IsWithin(uint64_t dir, uint64_t ancestor) const {
  uint64_t at = dir;
  for (size_t depth = 0; depth <= limits::kMaxFsTreeDepth; ++depth) {
    if (at == ancestor) return true;
    if (at == kFsRootId || at == kFsTrashId) return false;
    auto place = reader_.PlaceOf(at);  // a directory's entry id is its inode id
    if (!place.ok()) return place.status();
    if (!place->has_value()) return false;
    at = (*place)->first;
  }
  return FsError(ELOOP, "the directory tree is deeper than a tree may be");
}

absl::StatusOr<bool> FsPlanner::IsEmptyDir(uint64_t dir) const {
  bool end = false;
  auto entries = reader_.List(dir, 0, 1, &end);
  if (!entries.ok()) return entries.status();
  return entries->empty();
}

absl::StatusOr<std::pair<uint64_t, std::string>> FsPlanner::CopyOf(
    uint64_t parent, const FsDirEntryView& entry) const {
  auto conflicts = reader_.Conflicts(limits::kMaxFsOpsPerIntention * 1024);
  if (!conflicts.ok()) return conflicts.status();
  for (const auto& c : *conflicts) {
    if (c.parent != parent || c.name != entry.name || c.version.empty()) continue;
    // The copy's inode id is derived from the real inode's; the real one is the entry that
    // kept the name beside it.
    auto original = reader_.Lookup(parent, c.original);
    if (!original.ok()) return original.status();
    if (original->has_value() && FsConflictCopyId((*original)->inode, c.version) == entry.inode) {
      return std::make_pair((*original)->inode, c.version);
    }
  }
  return FsError(ENOENT, fmt::format("{} is no longer a conflict copy", Shown(entry.name)));
}

void FsPlanner::TouchDir(FsPlan& plan, uint64_t dir) const {
  plan.stamped = now_;
  auto* set = plan.payload.add_ops()->mutable_set_attr();
  set->set_inode(dir);
  *set->mutable_mtime() = now_;
  *set->mutable_ctime() = now_;
}

void FsPlanner::TouchCtime(FsPlan& plan, uint64_t ino) const {
  auto* set = plan.payload.add_ops()->mutable_set_attr();
  set->set_inode(ino);
  *set->mutable_ctime() = now_;
}

void FsPlanner::Unlink(FsPlan& plan, const FsDirEntryView& entry, const FsInode& inode) const {
  auto* move = plan.payload.add_ops()->mutable_move();
  move->set_entry(entry.entry);
  move->set_parent(kFsTrashId);
  move->set_name(fmt::format("{:016x}", entry.entry));
  AddVersions(inode, move);
  // The inode's other links (or the open file) see their ctime change.
  if (!IsDir(inode.attr.mode()) && inode.nlink > 1) TouchCtime(plan, inode.id);
}

absl::StatusOr<FsPlan> FsPlanner::Create(const v1::FsCreateRequest& request) {
  if (auto s = CheckFsCallName(request.name()); !s.ok()) return s;
  if (auto s = CheckFsTime(request.time()); !s.ok()) return s;
  uint64_t minted = 0;
  if (!request.nonce().empty()) {
    if (request.nonce().size() != kFsNonceBytes || author_.empty()) {
      return FsError(EINVAL, fmt::format("a create's nonce is {} bytes", kFsNonceBytes));
    }
    minted = FsMintedId(author_, request.nonce());
  }
  auto parent = DirectoryOf(request.parent());
  if (!parent.ok()) return parent.status();
  if (minted_names_.count({request.parent(), request.name()}) != 0) {
    return FsError(EEXIST, fmt::format("{} is created already by this call", Shown(request.name())));
  }
  auto existing = reader_.Lookup(request.parent(), request.name());
  if (!existing.ok()) return existing.status();
  FsPlan plan;
  if (existing->has_value()) {
    const FsDirEntryView& entry = **existing;
    if (minted != 0 && entry.inode == minted) {
      // The same create again (its answer was lost): it answers the inode it made.
      plan.no_change = true;
      plan.inode = minted;
      return plan;
    }
    // A conflict copy (entry 0) is never replaced: it is a version, not a link.
    if (request.replaces() == 0 || entry.inode != request.replaces() || entry.entry == 0) {
      return FsError(EEXIST, fmt::format("{} already exists", Shown(request.name())));
    }
    auto replaced = InodeOf(entry.inode, false);
    if (!replaced.ok()) return replaced.status();
    if (IsDir(replaced->attr.mode()) || IsDir(request.mode())) {
      return FsError(EISDIR, fmt::format("a create replaces no directory, nor with one: {}",
                                         Shown(request.name())));
    }
    Unlink(plan, entry, *replaced);
  }
  if (minted != 0) {
    bool made = minted_.count(minted) != 0;
    if (!made) {
      auto inode = reader_.Inode(minted);
      if (!inode.ok()) return inode.status();
      made = inode->has_value();
    }
    if (made) {
      return FsError(EEXIST, fmt::format("the inode of nonce {} exists already",
                                         ToHex(request.nonce())));
    }
  }
  uint32_t mode = request.mode();
  if ((mode & S_IFMT) == 0) mode |= S_IFREG;
  switch (mode & S_IFMT) {
    case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK: case S_IFIFO:
    case S_IFSOCK:
      break;
    default:
      return FsError(EINVAL, fmt::format("mode {:o} names no file type", mode));
  }
  mode &= S_IFMT | 07777;
  if (S_ISLNK(mode)) {
    if (request.symlink_target().empty()) return FsError(ENOENT, "a symlink needs a target");
    if (request.symlink_target().size() > limits::kMaxFsSymlinkBytes) {
      return FsError(ENAMETOOLONG, fmt::format("a symlink's target is at most {} bytes",
                                               limits::kMaxFsSymlinkBytes));
    }
    if (request.symlink_target().find('\0') != std::string::npos) {
      return FsError(EINVAL, "a symlink's target may not hold a NUL byte");
    }
  } else if (!request.symlink_target().empty()) {
    return FsError(EINVAL, "only a symlink has a target");
  }
  if (IsDir(mode) && parent->nlink >= kMaxFsLinks) {
    return FsError(EMLINK, fmt::format("directory {} holds too many directories", request.parent()));
  }
  plan.created_op = plan.payload.ops_size();
  auto* create = plan.payload.add_ops()->mutable_create();
  create->set_parent(request.parent());
  create->set_name(request.name());
  v1::FsAttr* attr = create->mutable_attr();
  attr->set_mode(mode);
  attr->set_uid(request.uid());
  attr->set_gid(request.gid());
  if (S_ISCHR(mode) || S_ISBLK(mode)) attr->set_rdev(request.rdev());
  const v1::FsTime& time = request.has_time() ? request.time() : now_;
  *attr->mutable_atime() = time;
  *attr->mutable_mtime() = time;
  *attr->mutable_ctime() = time;
  if (S_ISLNK(mode)) create->set_symlink_target(request.symlink_target());
  TouchDir(plan, request.parent());
  if (minted != 0) {
    create->set_nonce(request.nonce());
    plan.inode = minted;
    // Later calls planned by this planner (a CommitMany's commits and creates) see it.
    FsInode made;
    made.id = minted;
    made.attr = *attr;
    made.nlink = IsDir(mode) ? 2 : 1;
    made.symlink_target = request.symlink_target();
    minted_[minted] = std::move(made);
    minted_names_.insert({request.parent(), request.name()});
  }
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::Link(const v1::FsLinkRequest& request) {
  if (auto s = CheckFsCallName(request.new_name()); !s.ok()) return s;
  auto inode = InodeOf(request.ino(), true);
  if (!inode.ok()) return inode.status();
  if (IsDir(inode->attr.mode())) {
    return FsError(EPERM, fmt::format("inode {} is a directory, which has no hard links", request.ino()));
  }
  if (inode->conflict_copy) {
    return FsError(EPERM, fmt::format("inode {} is a conflict copy, which has no hard links",
                                      request.ino()));
  }
  if (inode->nlink >= kMaxFsLinks) {
    return FsError(EMLINK, fmt::format("inode {} has {} links already", request.ino(), inode->nlink));
  }
  if (auto parent = DirectoryOf(request.new_parent()); !parent.ok()) return parent.status();
  auto existing = reader_.Lookup(request.new_parent(), request.new_name());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return FsError(EEXIST, fmt::format("{} already exists", Shown(request.new_name())));
  }
  FsPlan plan;
  plan.inode = request.ino();
  auto* link = plan.payload.add_ops()->mutable_link();
  link->set_inode(request.ino());
  link->set_parent(request.new_parent());
  link->set_name(request.new_name());
  TouchCtime(plan, request.ino());
  TouchDir(plan, request.new_parent());
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::Remove(const v1::FsRemoveRequest& request) {
  if (auto s = CheckFsCallName(request.name()); !s.ok()) return s;
  if (auto parent = DirectoryOf(request.parent()); !parent.ok()) return parent.status();
  auto found = reader_.Lookup(request.parent(), request.name());
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return FsError(ENOENT, fmt::format("no {} in directory {}", Shown(request.name()), request.parent()));
  }
  const FsDirEntryView& entry = **found;
  if (request.ino() != 0 && entry.inode != request.ino()) {
    return FsError(ENOENT, fmt::format("{} in directory {} names inode {} now, not {}",
                                       Shown(request.name()), request.parent(), entry.inode,
                                       request.ino()));
  }
  FsPlan plan;
  if (entry.entry == 0) {
    // A version's conflict copy: deleting it drops that version from the heads.
    if (request.dir()) return FsError(ENOTDIR, fmt::format("{} is not a directory", Shown(entry.name)));
    auto copy = CopyOf(request.parent(), entry);
    if (!copy.ok()) return copy.status();
    auto* resolve = plan.payload.add_ops()->mutable_resolve();
    resolve->set_inode(copy->first);
    resolve->add_versions(copy->second);
    TouchDir(plan, request.parent());
    return plan;
  }
  auto inode = InodeOf(entry.inode, false);
  if (!inode.ok()) return inode.status();
  bool dir = IsDir(inode->attr.mode());
  if (request.dir() && !dir) {
    return FsError(ENOTDIR, fmt::format("{} is not a directory", Shown(entry.name)));
  }
  if (!request.dir() && dir) {
    return FsError(EISDIR, fmt::format("{} is a directory; remove it with rmdir", Shown(entry.name)));
  }
  if (dir) {
    auto empty = IsEmptyDir(entry.inode);
    if (!empty.ok()) return empty.status();
    if (!*empty) return FsError(ENOTEMPTY, fmt::format("directory {} is not empty", Shown(entry.name)));
  }
  Unlink(plan, entry, *inode);
  TouchDir(plan, request.parent());
  return plan;
}

absl::StatusOr<FsPlan> FsPlanner::Rename(const v1::FsRenameRequest& request) {
  uint32_t flags = request.flags();
  if ((flags & ~(kRenameNoReplace | kRenameExchange)) != 0 ||
      flags == (kRenameNoReplace | kRenameExchange)) {
    return FsError(EINVAL, fmt::format("rename flags {:#x} are not RENAME_NOREPLACE (1) or "
                                       "RENAME_EXCHANGE (2)",
                                       flags));
  }
  if (auto s = CheckFsCallName(request.name()); !s.ok()) return s;
  if (auto s = CheckFsCallName(request.new_name()); !s.ok()) return s;
  if (auto p = DirectoryOf(request.parent()); !p.ok()) return p.status();
  if (auto p = DirectoryOf(request.new_parent()); !p.ok()) return p.status();
  auto src_found = reader_.Lookup(request.parent(), request.name());
  if (!src_found.ok()) return src_found.status();
  if (!src_found->has_value()) {
    return FsError(ENOENT, fmt::format("no {} in directory {}", Shown(request.name()), request.parent()));
  }
  const FsDirEntryView src = **src_found;
  if (src.entry == 0) {
    return FsError(EXDEV, fmt::format("{} is a conflict copy, which is read-only: copy it to a "
                                      "new name instead",
                                      Shown(src.name)));
  }
  auto src_inode = InodeOf(src.inode, false);
  if (!src_inode.ok()) return src_inode.status();
  bool src_dir = IsDir(src_inode->attr.mode());

  auto dst_found = reader_.Lookup(request.new_parent(), request.new_name());
  if (!dst_found.ok()) return dst_found.status();
  std::optional<FsDirEntryView> dst = *dst_found;
  std::optional<FsInode> dst_inode;
  if (dst && dst->entry != 0) {
    auto d = InodeOf(dst->inode, false);
    if (!d.ok()) return d.status();
    dst_inode = *std::move(d);
  }
  if (dst && dst->entry == src.entry) {
    FsPlan plan;  // onto itself: nothing happens, as POSIX says
    plan.no_change = true;
    return plan;
  }
  if (dst && dst_inode && dst->inode == src.inode) {
    // Two links of one file: POSIX says nothing happens.
    FsPlan plan;
    plan.no_change = true;
    return plan;
  }
  // A directory may not move beneath itself.
  if (src_dir) {
    auto within = IsWithin(request.new_parent(), src.inode);
    if (!within.ok()) return within.status();
    if (*within) {
      return FsError(EINVAL, fmt::format("{} cannot move into its own subtree", Shown(request.name())));
    }
  }

  FsPlan plan;
  if (flags & kRenameExchange) {
    if (!dst) {
      return FsError(ENOENT, fmt::format("no {} to exchange with", Shown(request.new_name())));
    }
    if (!dst_inode) {
      return FsError(EXDEV, fmt::format("{} is a conflict copy, which is read-only",
                                        Shown(request.new_name())));
    }
    if (IsDir(dst_inode->attr.mode())) {
      auto within = IsWithin(request.parent(), dst->inode);
      if (!within.ok()) return within.status();
      if (*within) {
        return FsError(EINVAL, fmt::format("{} cannot move into its own subtree",
                                           Shown(request.new_name())));
      }
    }
    auto* a = plan.payload.add_ops()->mutable_move();
    a->set_entry(src.entry);
    a->set_parent(request.new_parent());
    a->set_name(request.new_name());
    auto* b = plan.payload.add_ops()->mutable_move();
    b->set_entry(dst->entry);
    b->set_parent(request.parent());
    b->set_name(request.name());
    TouchCtime(plan, src.inode);
    TouchCtime(plan, dst->inode);
    plan.touched = {src.inode, dst->inode};
  } else {
    if (dst) {
      if (flags & kRenameNoReplace) {
        return FsError(EEXIST, fmt::format("{} already exists", Shown(request.new_name())));
      }
      if (!dst_inode) {
        // Over a version's conflict copy: that version is dropped.
        if (src_dir) return FsError(ENOTDIR, fmt::format("{} is not a directory", Shown(dst->name)));
        auto copy = CopyOf(request.new_parent(), *dst);
        if (!copy.ok()) return copy.status();
        auto* resolve = plan.payload.add_ops()->mutable_resolve();
        resolve->set_inode(copy->first);
        resolve->add_versions(copy->second);
        plan.touched.push_back(copy->first);
      } else {
        bool dst_dir = IsDir(dst_inode->attr.mode());
        if (src_dir && !dst_dir) {
          return FsError(ENOTDIR, fmt::format("{} is not a directory", Shown(request.new_name())));
        }
        if (!src_dir && dst_dir) {
          return FsError(EISDIR, fmt::format("{} is a directory", Shown(request.new_name())));
        }
        if (dst_dir) {
          auto empty = IsEmptyDir(dst->inode);
          if (!empty.ok()) return empty.status();
          if (!*empty) {
            return FsError(ENOTEMPTY, fmt::format("directory {} is not empty", Shown(request.new_name())));
          }
        }
        Unlink(plan, *dst, *dst_inode);
        plan.touched.push_back(dst->inode);
      }
    }
    auto* move = plan.payload.add_ops()->mutable_move();
    move->set_entry(src.entry);
    move->set_parent(request.new_parent());
    move->set_name(request.new_name());
    TouchCtime(plan, src.inode);
    plan.touched.push_back(src.inode);
  }
  plan.moved_directory = src_dir || (dst_inode && IsDir(dst_inode->attr.mode()));
  TouchDir(plan, request.parent());
  if (request.new_parent() != request.parent()) TouchDir(plan, request.new_parent());
  return plan;
}

}  // namespace lattice::kernel
