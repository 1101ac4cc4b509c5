#include "src/filesystem.h"

#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "src/attrs.h"

namespace lattice::fuse {
namespace {

using v1::Fs;

constexpr v1::Durability kApplied = v1::DURABILITY_APPLIED;
// New content up to this size goes along with its commit (within kMaxFsPutChunksBytes).
constexpr size_t kSendAlongBytes = 1024 * 1024;

// A closed file of at most this size has its commit queued (write_back.h); a larger one is
// committed at close, its upload being most of the cost anyway. At most kWriteBackQueued
// commits wait, so what they hold stays within about 64 MiB.
constexpr uint64_t kWriteBackMaxBytes = 256 * 1024;
constexpr size_t kWriteBackQueued = 256;
// The most commits one Fs.CommitMany takes: they are the ops of one intention.
constexpr size_t kCommitsPerCall = limits::kMaxFsOpsPerIntention;
// How long a closed file's commit waits for others to share its CommitMany (write_back.h):
// about ten files' worth of creating, at the pace one mount creates them.
constexpr std::chrono::milliseconds kWriteBackLinger{20};
// Unlinks answered here (removals.h): as many to a call as a RemoveMany takes, on two
// threads so that one batch is built while the other is sent; at most kRemovalsQueued wait.
constexpr size_t kRemovalsPerCall = 32;
constexpr int kRemovalThreads = 2;
constexpr size_t kRemovalsQueued = 1024;

// Read-ahead of committed content (ReadCommitted): from 256 KiB, doubling while a reader stays
// sequential, to the most one Fs.Read returns.
constexpr uint32_t kReadAheadMinBytes = 256 * 1024;
constexpr uint32_t kReadAheadMaxBytes = limits::kMaxFsReadBytes;

// A file written from its start is cut and uploaded in rounds of about this much while it is
// written (Overlay::ClaimStream): one round is cut while up to two upload.
constexpr uint64_t kStreamRoundBytes = 8 * 1024 * 1024;

FileSystem* Self(fuse_req_t req) { return static_cast<FileSystem*>(fuse_req_userdata(req)); }

bool IsUserXattr(const char* name) { return std::strncmp(name, "user.", 5) == 0; }


// ---- C callbacks -------------------------------------------------------------------------

void OpInit(void* /*userdata*/, fuse_conn_info* conn) {
  // Writes come through the daemon one by one (no writeback cache), so sizes and O_APPEND
  // stay exact; the FUSE kernel module handles locks and the setuid bits on write itself.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  conn->max_write = std::min<unsigned>(conn->max_write, 1024 * 1024);
  // The page cache of a file is dropped only when its content changed: at an open that finds
  // another version than the cache holds (keep_cache), and when another node's change arrives
  // (Invalidate). Not whenever its mtime moves, which every write of our own does: the pages
  // those writes filled are the file's content, and a read after them is served from memory.
  // (Changes made by other clients of this node, such as a second mount of the store, are
  // heard too: Watcher skips only this mount's own calls.)
  if (conn->capable & FUSE_CAP_EXPLICIT_INVAL_DATA) {
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    conn->want |= FUSE_CAP_EXPLICIT_INVAL_DATA;
  }
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Self(req)->Lookup(req, parent, name);
}
void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Self(req)->Forget(ino, nlookup);
  fuse_reply_none(req);
}
void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) Self(req)->Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}
void OpGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  Self(req)->GetAttr(req, ino);
}
void OpSetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
               fuse_file_info* fi) {
  Self(req)->SetAttr(req, ino, attr, to_set, fi);
}
void OpReadLink(fuse_req_t req, fuse_ino_t ino) { Self(req)->ReadLink(req, ino); }
void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  Self(req)->MakeNode(req, parent, name, mode, rdev, nullptr, nullptr);
}
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Self(req)->MakeNode(req, parent, name, (mode & 07777) | S_IFDIR, 0, nullptr, nullptr);
}
void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  Self(req)->MakeNode(req, parent, name, S_IFLNK | 0777, 0, target, nullptr);
}
void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi) {
  Self(req)->MakeNode(req, parent, name, (mode & 07777) | S_IFREG, 0, nullptr, fi);
}
void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Self(req)->Remove(req, parent, name, false);
}
void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Self(req)->Remove(req, parent, name, true);
}
void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
              const char* new_name, unsigned int flags) {
  Self(req)->Rename(req, parent, name, new_parent, new_name, flags);
}
void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) {
  Self(req)->Link(req, ino, new_parent, new_name);
}
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Self(req)->Open(req, ino, fi); }
void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Self(req)->Read(req, ino, size, off, fi);
}
void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi) {
  Self(req)->Write(req, ino, buf, size, off, fi);
}
void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Self(req)->Flush(req, ino, fi);
}
void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Self(req)->Release(req, ino, fi);
}
void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Self(req)->Fsync(req, ino, datasync, fi);
}
void OpOpenDir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  fi->fh = 0;
  // A listing is kept in memory across opens until the directory changes: the FUSE kernel
  // module drops it itself when a name in it is made, removed or renamed through this mount,
  // and Invalidate drops it for every change heard from elsewhere (the watch names each
  // directory whose listing a change can alter, the conflict copies a write makes included).
  fi->cache_readdir = 1;
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}
void OpReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Self(req)->ReadDir(req, ino, size, off, false);
}
void OpReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Self(req)->ReadDir(req, ino, size, off, true);
}
void OpReleaseDir(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }
void OpFsyncDir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  Self(req)->FsyncDir(req, ino);
}
void OpStatFs(fuse_req_t req, fuse_ino_t ino) { Self(req)->StatFs(req, ino); }
void OpSetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                size_t size, int flags) {
  Self(req)->SetXattr(req, ino, name, value, size, flags);
}
void OpGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Self(req)->GetXattr(req, ino, name, size);
}
void OpListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Self(req)->ListXattr(req, ino, size);
}
void OpRemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  Self(req)->RemoveXattr(req, ino, name);
}
void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                 fuse_file_info* fi) {
  Self(req)->Fallocate(req, ino, mode, offset, length, fi);
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetAttr;
  ops.setattr = OpSetAttr;
  ops.readlink = OpReadLink;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.symlink = OpSymlink;
  ops.create = OpCreate;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.flush = OpFlush;
  ops.release = OpRelease;
  ops.fsync = OpFsync;
  ops.opendir = OpOpenDir;
  ops.readdir = OpReadDir;
  ops.readdirplus = OpReadDirPlus;
  ops.releasedir = OpReleaseDir;
  ops.fsyncdir = OpFsyncDir;
  ops.statfs = OpStatFs;
  ops.setxattr = OpSetXattr;
  ops.getxattr = OpGetXattr;
  ops.listxattr = OpListXattr;
  ops.removexattr = OpRemoveXattr;
  ops.fallocate = OpFallocate;
  // No getlk/setlk/flock: the FUSE kernel module then keeps POSIX locks and flock locks
  // itself, local to this node. No access: `default_permissions` checks in the kernel.
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& FileSystem::Operations() {
  static const fuse_lowlevel_ops ops = MakeOperations();
  return ops;
}

FileSystem::FileSystem(KernelLink* link, FsOptions options)
    : link_(link),
      options_(options),
      dir_attrs_(std::chrono::duration_cast<DirAttrCache::Clock::duration>(
          std::chrono::duration<double>(options.attr_timeout_s))),
      known_names_(std::chrono::duration_cast<KnownNames::Clock::duration>(
          std::chrono::duration<double>(options.entry_timeout_s))) {
  if (options_.write_back_threads > 0) {
    write_back_ = std::make_unique<WriteBack>(
        [this](const std::vector<uint64_t>& inodes) { CommitQueued(inodes); },
        options_.write_back_threads, kWriteBackQueued, kCommitsPerCall, kWriteBackLinger);
  }
  if (options_.batch_unlinks) {
    removals_ = std::make_unique<Removals>(
        [this](const std::vector<Removal>& batch) { SendRemovals(batch); }, kRemovalThreads,
        kRemovalsQueued, kRemovalsPerCall, kWriteBackLinger);
  }
}

FileSystem::~FileSystem() {
  if (write_back_) write_back_->Stop();
  if (removals_) removals_->Stop();
  {
    std::lock_guard lock(stream_mu_);
    stream_stop_ = true;
  }
  stream_wake_.notify_all();
  upload_wake_.notify_all();
  if (stream_thread_.joinable()) stream_thread_.join();
  // The upload thread finishes what was queued (each round then counts or breaks its
  // stream) before it ends.
  if (upload_thread_.joinable()) upload_thread_.join();
}

// ---- inode table ---------------------------------------------------------------------------

std::shared_ptr<InodeState> FileSystem::Find(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(ino);
  return it == inodes_.end() ? nullptr : it->second;
}

std::shared_ptr<InodeState> FileSystem::Get(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto& slot = inodes_[ino];
  if (!slot) slot = std::make_shared<InodeState>();
  return slot;
}

void FileSystem::MaybeDrop(uint64_t ino) {
  std::shared_ptr<InodeState> state;
  {
    std::lock_guard lock(mu_);
    auto it = inodes_.find(ino);
    if (it == inodes_.end() || it->second->nlookup > 0 || it->second->open > 0) return;
    state = it->second;
    std::unique_lock inode_lock(state->mu, std::try_to_lock);
    if (!inode_lock.owns_lock()) return;
    if (state->overlay && state->overlay->dirty() && !state->orphan) return;
    inodes_.erase(it);
  }
}

void FileSystem::Forget(fuse_ino_t ino, uint64_t nlookup) {
  {
    std::lock_guard lock(mu_);
    auto it = inodes_.find(ino);
    if (it == inodes_.end()) return;
    it->second->nlookup -= std::min(it->second->nlookup, nlookup);
  }
  MaybeDrop(ino);
}

// ---- replies -------------------------------------------------------------------------------

void FileSystem::ReplyError(fuse_req_t req, const absl::Status& status) {
  int err = FsErrnoOf(status);
  if (err == 0) err = EIO;
  if (err == EIO) {
    spdlog::warn("answering EIO: {}",
                 std::string_view(status.message().data(), status.message().size()));
  }
  fuse_reply_err(req, err);
}

fuse_entry_param FileSystem::EntryOf(const v1::FsStat& stat) const {
  fuse_entry_param entry{};
  entry.ino = stat.ino();
  entry.generation = stat.generation();
  entry.attr = ToStat(stat);
  entry.attr_timeout = options_.attr_timeout_s;
  entry.entry_timeout = options_.entry_timeout_s;
  return entry;
}

void FileSystem::ReplyEntry(fuse_req_t req, const v1::FsStat& raw) {
  auto state = Get(raw.ino());
  v1::FsStat stat;
  {
    std::lock_guard lock(state->mu);
    stat = Shown(*state, raw);
  }
  fuse_entry_param entry = EntryOf(stat);
  {
    std::lock_guard lock(mu_);
    state->nlookup++;
  }
  if (fuse_reply_entry(req, &entry) != 0) Forget(raw.ino(), 1);
}

v1::FsStat FileSystem::Shown(InodeState& state, v1::FsStat stat) {
  if (state.last_commit && stat.version() == state.last_commit->replaced &&
      S_ISREG(stat.attr().mode()) && !(state.overlay && state.overlay->dirty())) {
    // Asked for before a commit of ours (made after close) was applied: the content is the
    // commit's.
    const v1::FsStat& committed = state.last_commit->stat;
    stat.set_version(committed.version());
    stat.set_size(committed.size());
    stat.set_blocks(committed.blocks());
    *stat.mutable_attr()->mutable_mtime() = committed.attr().mtime();
    *stat.mutable_attr()->mutable_ctime() = committed.attr().ctime();
    if (state.last_commit->set_attrs) {
      stat.mutable_attr()->set_mode(committed.attr().mode());
      stat.mutable_attr()->set_uid(committed.attr().uid());
      stat.mutable_attr()->set_gid(committed.attr().gid());
      *stat.mutable_attr()->mutable_atime() = committed.attr().atime();
    }
  }
  if (state.overlay && (state.overlay->dirty() || state.orphan)) {
    stat.set_size(state.overlay->size());
    stat.set_blocks((state.overlay->size() + 511) / 512);
    if (state.overlay->dirty()) {
      *stat.mutable_attr()->mutable_mtime() = ToFsTime(state.overlay->mtime());
      *stat.mutable_attr()->mutable_ctime() = ToFsTime(state.overlay->mtime());
    }
  }
  if (state.pending_attrs) {
    const v1::FsAttrChange& pending = *state.pending_attrs;
    v1::FsAttr* attr = stat.mutable_attr();
    if (pending.has_mode()) attr->set_mode((attr->mode() & S_IFMT) | pending.mode());
    if (pending.has_uid()) attr->set_uid(pending.uid());
    if (pending.has_gid()) attr->set_gid(pending.gid());
    if (pending.has_atime()) *attr->mutable_atime() = pending.atime();
    KeepLatest(attr->mutable_ctime(), ToFsTime(state.pending_ctime));
  }
  if (state.orphan) stat.set_nlink(0);
  state.last = stat;
  return stat;
}

absl::StatusOr<v1::FsStat> FileSystem::Stat(uint64_t ino) {
  v1::FsGetAttrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  v1::FsStat reply;
  absl::Status status = link_->Call("GetAttr", &Fs::Stub::GetAttr, request, &reply);
  if (!status.ok()) return status;
  return reply;
}

// ---- names ---------------------------------------------------------------------------------

void FileSystem::Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (int err = CheckName(name); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  // A negative entry, cached as long as a positive one: a name made on another node
  // arrives with the watch, which drops it.
  auto reply_absent = [this, req] {
    fuse_entry_param entry{};
    entry.entry_timeout = options_.entry_timeout_s;
    fuse_reply_entry(req, &entry);
  };
  if (removals_ && removals_->Pending(parent, name)) {
    reply_absent();  // unlinked here, and not yet sent
    return;
  }
  // A new name in a directory made here is known to be free (known_names.h).
  KnownNames::Answer known = known_names_.Find(parent, name);
  if (known == KnownNames::Answer::kVerify) {
    auto dir = Stat(parent);
    if (dir.ok() && known_names_.Verify(*dir)) known = known_names_.Find(parent, name);
  }
  if (known == KnownNames::Answer::kAbsent) {
    reply_absent();
    return;
  }
  v1::FsLookupRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  v1::FsEntryReply reply;
  absl::Status status = link_->Call("Lookup", &Fs::Stub::Lookup, request, &reply);
  if (status.ok() && MayMissRemovals(reply.stat())) {
    AwaitRemovals();
    status = link_->Call("Lookup", &Fs::Stub::Lookup, request, &reply);
  }
  if (!status.ok()) {
    if (FsErrnoOf(status) == ENOENT) {
      reply_absent();
      return;
    }
    ReplyError(req, status);
    return;
  }
  ReplyEntry(req, reply.stat());
}

void FileSystem::GetAttr(fuse_req_t req, fuse_ino_t ino) {
  if (auto cached = dir_attrs_.Find(ino)) {
    struct stat attr = ToStat(*cached);
    fuse_reply_attr(req, &attr, options_.attr_timeout_s);
    return;
  }
  auto state = Get(ino);
  {
    std::lock_guard lock(state->mu);
    if (state->orphan) {
      struct stat attr = ToStat(Shown(*state, state->last));
      fuse_reply_attr(req, &attr, options_.attr_timeout_s);
      return;
    }
  }
  uint64_t generation = dir_attrs_.generation();
  auto stat = Stat(ino);
  if (stat.ok() && MayMissRemovals(*stat)) {
    AwaitRemovals();
    generation = dir_attrs_.generation();
    stat = Stat(ino);
  }
  if (!stat.ok()) {
    ReplyError(req, stat.status());
    MaybeDrop(ino);
    return;
  }
  dir_attrs_.Put(*stat, generation);
  struct stat attr;
  {
    std::lock_guard lock(state->mu);
    attr = ToStat(Shown(*state, *stat));
  }
  fuse_reply_attr(req, &attr, options_.attr_timeout_s);
}

void FileSystem::SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                         fuse_file_info* /*fi*/) {
  auto state = Get(ino);
  std::lock_guard lock(state->mu);
  v1::FsSetAttrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_durability(kApplied);
  bool any = false;
  if (to_set & FUSE_SET_ATTR_MODE) {
    request.set_mode(attr->st_mode & 07777);
    any = true;
  }
  if (to_set & FUSE_SET_ATTR_UID) {
    request.set_uid(attr->st_uid);
    any = true;
  }
  if (to_set & FUSE_SET_ATTR_GID) {
    request.set_gid(attr->st_gid);
    any = true;
  }
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    request.set_atime_now(true);
    any = true;
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    *request.mutable_atime() = ToFsTime(attr->st_atim);
    any = true;
  }
  timespec mtime{};
  bool set_mtime = false;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    request.set_mtime_now(true);
    mtime = WallNow();
    set_mtime = true;
    any = true;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    *request.mutable_mtime() = ToFsTime(attr->st_mtim);
    mtime = attr->st_mtim;
    set_mtime = true;
    any = true;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (static_cast<uint64_t>(attr->st_size) > limits::kMaxFsFileBytes) {
      fuse_reply_err(req, EFBIG);
      return;
    }
    if (state->overlay || state->orphan) {
      // Unsaved writes: the truncate joins them and is committed with them.
      auto overlay = OverlayOf(ino, *state);
      absl::Status status = overlay.ok() ? (*overlay)->Truncate(attr->st_size)
                                         : overlay.status();
      if (!status.ok()) {
        ReplyError(req, status);
        return;
      }
    } else {
      request.set_size(static_cast<uint64_t>(attr->st_size));
      any = true;
    }
  }
  if (set_mtime && state->overlay && state->overlay->dirty()) {
    // cp -p and tar set the times before close: the commit keeps them.
    state->overlay->set_mtime(mtime);
  }
  // Unsaved writes wait for their commit: what is set now goes with it, in its intention.
  // So does what is set on a file made here and still empty (sed -i's fchown and fchmod of
  // its new file before writing it), whose close then commits it.
  if (any && !request.has_size() && !state->orphan && state->overlay &&
      (state->overlay->dirty() || state->overlay->base_version().empty())) {
    if (!state->overlay->dirty()) {
      state->overlay->MarkDirty(set_mtime ? mtime : ToTimespec(state->last.attr().mtime()));
    }
    FoldIntoCommit(*state, request);
    struct stat out = ToStat(Shown(*state, state->last));
    fuse_reply_attr(req, &out, options_.attr_timeout_s);
    return;
  }
  v1::FsStat stat = state->last;
  if (state->orphan) {
    if (request.has_mode()) {
      stat.mutable_attr()->set_mode((stat.attr().mode() & S_IFMT) | request.mode());
    }
    if (request.has_uid()) stat.mutable_attr()->set_uid(request.uid());
    if (request.has_gid()) stat.mutable_attr()->set_gid(request.gid());
  } else if (any) {
    absl::Status status = link_->Call("SetAttr", &Fs::Stub::SetAttr, request, &stat);
    ForgetDir(ino);
    if (!status.ok()) {
      ReplyError(req, status);
      return;
    }
    if (MayMissRemovals(stat)) {
      AwaitRemovals();
      if (auto fresh = Stat(ino); fresh.ok()) stat = *fresh;
    }
    if (request.has_size()) state->cached_version = stat.version();
  } else {
    auto fresh = Stat(ino);
    if (!fresh.ok()) {
      ReplyError(req, fresh.status());
      return;
    }
    stat = *fresh;
  }
  struct stat out = ToStat(Shown(*state, stat));
  fuse_reply_attr(req, &out, options_.attr_timeout_s);
}

void FileSystem::FoldIntoCommit(InodeState& state, const v1::FsSetAttrRequest& request) {
  if (!request.has_mode() && !request.has_uid() && !request.has_gid() && !request.has_atime() &&
      !request.atime_now()) {
    return;  // the mtime alone: the overlay has it
  }
  v1::FsAttrChange& pending =
      state.pending_attrs ? *state.pending_attrs : state.pending_attrs.emplace();
  if (request.has_mode()) pending.set_mode(request.mode());
  if (request.has_uid()) pending.set_uid(request.uid());
  if (request.has_gid()) pending.set_gid(request.gid());
  if (request.has_uid() || request.has_gid()) {
    // As the kernel plans a chown: setuid and setgid are dropped, shown so at once.
    uint32_t perms = pending.has_mode() ? pending.mode() : state.last.attr().mode() & 07777;
    if (perms & 06000) pending.set_mode(perms & ~06000u);
  }
  if (request.has_atime()) {
    *pending.mutable_atime() = request.atime();
  } else if (request.atime_now()) {
    *pending.mutable_atime() = ToFsTime(WallNow());
  }
  state.pending_ctime = WallNow();
}

void FileSystem::ReadLink(fuse_req_t req, fuse_ino_t ino) {
  v1::FsReadLinkRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  v1::FsReadLinkResponse reply;
  absl::Status status = link_->Call("ReadLink", &Fs::Stub::ReadLink, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_readlink(req, reply.target().c_str());
}

void FileSystem::MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                          dev_t rdev, const char* symlink_target, fuse_file_info* create_fi) {
  if (int err = CheckName(name); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  if (symlink_target != nullptr && std::strlen(symlink_target) > limits::kMaxFsSymlinkBytes) {
    fuse_reply_err(req, ENAMETOOLONG);
    return;
  }
  AwaitRemovalOf(parent, name);  // the name unlinked here is free once the kernel has it
  const fuse_ctx* context = fuse_req_ctx(req);
  v1::FsCreateRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  request.set_mode(mode);
  request.set_uid(context->uid);
  request.set_gid(context->gid);
  request.set_rdev(rdev);
  if (symlink_target != nullptr) request.set_symlink_target(symlink_target);
  request.set_durability(kApplied);
  v1::FsEntryReply reply;
  absl::Status status = link_->Call("Create", &Fs::Stub::Create, request, &reply);
  // The name was taken after all (made by another client of this node, not yet seen): what
  // this daemon knew of the directory's names is wrong.
  if (FsErrnoOf(status) == EEXIST) known_names_.Forget(parent);
  bool existed = false;
  if (!status.ok() && create_fi != nullptr && !(create_fi->flags & O_EXCL) &&
      FsErrnoOf(status) == EEXIST) {
    // The name appeared since the FUSE kernel module last looked (another node, before the
    // watch said so): open(O_CREAT) without O_EXCL opens what is there.
    v1::FsLookupRequest lookup;
    lookup.set_store(link_->store());
    lookup.set_parent(parent);
    lookup.set_name(name);
    status = link_->Call("Lookup", &Fs::Stub::Lookup, lookup, &reply);
    if (status.ok() && S_ISDIR(reply.stat().attr().mode())) status = FsError(EISDIR, "a directory");
    existed = status.ok();
  }
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  if (!existed) {
    dir_attrs_.NoteCreated(parent, reply.stat());
    known_names_.NoteCreated(parent, name, reply.stat());
  }
  if (create_fi == nullptr) {
    ReplyEntry(req, reply.stat());
    return;
  }
  auto state = Get(reply.stat().ino());
  fuse_entry_param entry;
  {
    std::lock_guard lock(state->mu);
    if (existed && (create_fi->flags & O_TRUNC)) {
      auto overlay = OverlayOf(reply.stat().ino(), *state);
      absl::Status truncated = overlay.ok() ? (*overlay)->Truncate(0) : overlay.status();
      if (!truncated.ok()) {
        ReplyError(req, truncated);
        return;
      }
    }
    entry = EntryOf(Shown(*state, reply.stat()));
    state->cached_version = reply.stat().version();
    if (!existed && !state->overlay) {
      // Made just now, so empty: its write buffer starts without asking the kernel.
      state->last = reply.stat();
      auto overlay = Overlay::Create(reply.stat().version(), reply.stat().size());
      if (overlay.ok()) state->overlay = std::move(*overlay);
    }
  }
  {
    std::lock_guard lock(mu_);
    state->nlookup++;
    state->open++;
  }
  open_files_++;
  // The handle names the inode: nothing to allocate, so nothing leaks when the module
  // unmounts without a RELEASE for it.
  create_fi->fh = reply.stat().ino();
  create_fi->keep_cache = 0;
  if (fuse_reply_create(req, &entry, create_fi) != 0) {
    {
      std::lock_guard lock(mu_);
      state->open--;
    }
    open_files_--;
    Forget(reply.stat().ino(), 1);
  }
}

std::shared_ptr<InodeState> FileSystem::KeepIfOpen(uint64_t parent, const std::string& name) {
  if (open_files_.load() == 0) return nullptr;
  v1::FsLookupRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  v1::FsEntryReply reply;
  if (!link_->Call("Lookup", &Fs::Stub::Lookup, request, &reply).ok()) return nullptr;
  const v1::FsStat& stat = reply.stat();
  if (!S_ISREG(stat.attr().mode()) || stat.nlink() > 1) return nullptr;
  auto state = Find(stat.ino());
  if (!state) return nullptr;
  {
    std::lock_guard lock(mu_);
    if (state->open == 0) return nullptr;
  }
  std::lock_guard lock(state->mu);
  state->last = stat;
  auto overlay = OverlayOf(stat.ino(), *state);
  if (!overlay.ok()) return nullptr;
  absl::Status local = (*overlay)->EnsureLocal(0, (*overlay)->size(),
                                               Fetcher(stat.ino(), (*overlay)->base_version()));
  if (!local.ok()) {
    spdlog::warn("could not keep the content of inode {} before its last name went: {}",
                 stat.ino(), std::string_view(local.message().data(), local.message().size()));
    return nullptr;
  }
  return state;
}

void FileSystem::Remove(fuse_req_t req, fuse_ino_t parent, const char* name, bool dir) {
  if (int err = CheckName(name); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  if (!dir && RemoveLater(parent, name)) {
    fuse_reply_err(req, 0);
    return;
  }
  // A directory is empty once the names unlinked in it are gone.
  if (dir) AwaitRemovals();
  std::shared_ptr<InodeState> kept = dir ? nullptr : KeepIfOpen(parent, name);
  v1::FsRemoveRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  request.set_dir(dir);
  request.set_durability(kApplied);
  v1::FsChangeReply reply;
  absl::Status status = link_->Call("Remove", &Fs::Stub::Remove, request, &reply);
  if (dir) {
    ForgetAllDirs();  // the removed directory's own attributes too
  } else {
    ForgetDir(parent);
  }
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  if (!dir) removals_proven_.store(true);
  if (kept) {
    std::lock_guard lock(kept->mu);
    kept->orphan = true;
  }
  fuse_reply_err(req, 0);
}

void FileSystem::Rename(fuse_req_t req, fuse_ino_t parent, const char* name,
                        fuse_ino_t new_parent, const char* new_name, unsigned int flags) {
  if (int err = CheckName(name); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  if (int err = CheckName(new_name); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  AwaitRemovalOf(new_parent, new_name);  // else the rename would replace a name unlinked here
  std::shared_ptr<InodeState> kept =
      (flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)) ? nullptr : KeepIfOpen(new_parent, new_name);
  v1::FsRenameRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  request.set_new_parent(new_parent);
  request.set_new_name(new_name);
  request.set_flags(flags);
  request.set_durability(kApplied);
  v1::FsChangeReply reply;
  absl::Status status = link_->Call("Rename", &Fs::Stub::Rename, request, &reply);
  ForgetAllDirs();
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  if (kept) {
    std::lock_guard lock(kept->mu);
    kept->orphan = true;
  }
  fuse_reply_err(req, 0);
}

void FileSystem::Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent,
                      const char* new_name) {
  if (int err = CheckName(new_name); err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  AwaitRemovalOf(new_parent, new_name);
  v1::FsLinkRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_new_parent(new_parent);
  request.set_new_name(new_name);
  request.set_durability(kApplied);
  v1::FsEntryReply reply;
  absl::Status status = link_->Call("Link", &Fs::Stub::Link, request, &reply);
  ForgetDir(new_parent);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  if (MayMissRemovals(reply.stat())) {
    AwaitRemovals();
    if (auto fresh = Stat(ino); fresh.ok()) *reply.mutable_stat() = *fresh;
  }
  ReplyEntry(req, reply.stat());
}

// ---- content -------------------------------------------------------------------------------

absl::StatusOr<std::string> FileSystem::ReadBase(uint64_t ino, const std::string& version,
                                                 uint64_t offset, uint32_t length) {
  std::string out;
  while (out.size() < length) {
    v1::FsReadRequest request;
    request.set_store(link_->store());
    request.set_ino(ino);
    request.set_offset(offset + out.size());
    request.set_length(std::min<uint32_t>(length - static_cast<uint32_t>(out.size()),
                                          limits::kMaxFsReadBytes));
    request.set_version(version);
    v1::FsReadResponse reply;
    absl::Status status = link_->Call("Read", &Fs::Stub::Read, request, &reply);
    if (!status.ok()) return status;
    if (reply.data().empty()) break;
    out += reply.data();
  }
  return out;
}

FetchBase FileSystem::Fetcher(uint64_t ino, const std::string& version) {
  return [this, ino, version](uint64_t offset, uint32_t length) {
    return ReadBase(ino, version, offset, length);
  };
}

absl::StatusOr<Overlay*> FileSystem::OverlayOf(uint64_t ino, InodeState& state) {
  if (state.overlay) return state.overlay.get();
  std::string version;
  uint64_t size = 0;
  if (state.orphan) {
    version = state.last.version();
    size = state.last.size();
  } else {
    auto stat = Stat(ino);
    if (!stat.ok()) return stat.status();
    state.last = *stat;
    version = stat->version();
    size = stat->size();
  }
  auto overlay = Overlay::Create(version, size);
  if (!overlay.ok()) return overlay.status();
  state.overlay = std::move(*overlay);
  return state.overlay.get();
}

void FileSystem::Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto state = Get(ino);
  {
    std::lock_guard lock(state->mu);
    bool keep = false;
    if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
      // FUSE_CAP_ATOMIC_O_TRUNC: the truncate comes with the open.
      auto overlay = OverlayOf(ino, *state);
      absl::Status status = overlay.ok() ? (*overlay)->Truncate(0) : overlay.status();
      if (!status.ok()) {
        ReplyError(req, status);
        return;
      }
    }
    NoteRemoteChanges(*state);
    if (state->overlay || state->orphan) {
      keep = true;  // the page cache holds what this daemon wrote
    } else {
      auto stat = Stat(ino);
      if (!stat.ok()) {
        ReplyError(req, stat.status());
        return;
      }
      state->last = *stat;
      keep = !stat->version().empty() && stat->version() == state->cached_version;
      state->cached_version = stat->version();
    }
    fi->keep_cache = keep ? 1 : 0;
  }
  {
    std::lock_guard lock(mu_);
    state->open++;
  }
  open_files_++;
  fi->fh = ino;
  if (fuse_reply_open(req, fi) != 0) {
    {
      std::lock_guard lock(mu_);
      state->open--;
    }
    open_files_--;
  }
}

void FileSystem::Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      fuse_file_info* /*fi*/) {
  size = std::min<size_t>(size, limits::kMaxFsReadBytes);
  auto state = Get(ino);
  std::string version;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(state->mu);
    if (state->overlay) {
      Overlay& overlay = *state->overlay;
      auto data = overlay.Read(static_cast<uint64_t>(off), size,
                               Fetcher(ino, overlay.base_version()));
      if (!data.ok()) {
        ReplyError(req, data.status());
        return;
      }
      fuse_reply_buf(req, data->data(), data->size());
      return;
    }
    NoteRemoteChanges(*state);
    version = state->cached_version;
    epoch = state->seen_epoch;
  }
  ReadCommitted(req, ino, *state, std::move(version), epoch, size, static_cast<uint64_t>(off));
}

void FileSystem::NoteRemoteChanges(InodeState& state) {
  uint64_t epoch = state.epoch.load();
  if (epoch == state.seen_epoch) return;
  state.cached_version.clear();
  state.seen_epoch = epoch;
}

absl::StatusOr<v1::FsReadResponse> FileSystem::FetchCommitted(uint64_t ino,
                                                              const std::string& version,
                                                              uint64_t offset, uint32_t length) {
  v1::FsReadRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_offset(offset);
  request.set_length(length);
  request.set_version(version);
  v1::FsReadResponse reply;
  absl::Status status = link_->Call("Read", &Fs::Stub::Read, request, &reply);
  if (!status.ok()) return status;
  return reply;
}

void FileSystem::ReadCommitted(fuse_req_t req, uint64_t ino, InodeState& state,
                               std::string version, uint64_t epoch, size_t size,
                               uint64_t offset) {
  std::lock_guard lock(state.read_mu);
  ReadAhead& ahead = state.ahead;
  bool usable = !ahead.version.empty() && ahead.epoch == epoch &&
                (version.empty() || version == ahead.version);
  auto covers = [&ahead, offset, size] {
    uint64_t held_end = ahead.offset + ahead.data.size();
    return offset >= ahead.offset &&
           (offset + size <= held_end || (ahead.eof && offset <= held_end));
  };
  auto install = [&ahead, epoch](v1::FsReadResponse reply, uint64_t at, uint32_t asked) {
    ahead.version = reply.version();
    ahead.epoch = epoch;
    ahead.offset = at;
    ahead.eof = reply.data().size() < asked;
    ahead.data = std::move(*reply.mutable_data());
  };
  bool covered = usable && covers();
  if (!covered && ahead.pending.valid()) {
    // The window fetched ahead, when this read falls in it; otherwise it is dropped.
    bool wanted = usable && offset >= ahead.pending_offset &&
                  offset < ahead.pending_offset + ahead.pending_length;
    auto fetched = ahead.pending.get();
    if (wanted && fetched.ok()) {
      install(*std::move(fetched), ahead.pending_offset, ahead.pending_length);
      covered = covers();
    }
  }
  bool sequential = usable && offset == ahead.next;
  if (!covered) {
    // A reader going on from where it stopped gets a growing window fetched ahead; any other
    // read fetches what it asks for.
    uint32_t window = sequential ? std::min<uint32_t>(std::max<uint32_t>(ahead.window * 2,
                                                                         kReadAheadMinBytes),
                                                      kReadAheadMaxBytes)
                                 : 0;
    uint32_t want = std::max<uint32_t>(static_cast<uint32_t>(size), window);
    auto fetched = FetchCommitted(ino, version, offset, want);
    if (!fetched.ok()) {
      ahead = ReadAhead{};
      ReplyError(req, fetched.status());
      return;
    }
    install(*std::move(fetched), offset, want);
    ahead.window = window;
  }
  uint64_t from = offset - ahead.offset;
  size_t n = static_cast<size_t>(
      std::min<uint64_t>(size, ahead.data.size() - std::min<uint64_t>(from, ahead.data.size())));
  ahead.next = offset + n;
  fuse_reply_buf(req, n == 0 ? nullptr : ahead.data.data() + from, n);
  // A sequential reader gets the next window fetched while it consumes this one.
  if (sequential && ahead.window > 0 && !ahead.eof && !ahead.pending.valid()) {
    ahead.window = std::min<uint32_t>(ahead.window * 2, kReadAheadMaxBytes);
    ahead.pending_offset = ahead.offset + ahead.data.size();
    ahead.pending_length = ahead.window;
    ahead.pending = std::async(std::launch::async,
                               [this, ino, version = ahead.version, at = ahead.pending_offset,
                                length = ahead.pending_length] {
                                 return FetchCommitted(ino, version, at, length);
                               });
  }
}

void FileSystem::Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
                       fuse_file_info* /*fi*/) {
  auto state = Get(ino);
  std::lock_guard lock(state->mu);
  auto overlay = OverlayOf(ino, *state);
  if (!overlay.ok()) {
    ReplyError(req, overlay.status());
    return;
  }
  absl::Status status = (*overlay)->Write(static_cast<uint64_t>(off), std::string_view(buf, size));
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  if ((*overlay)->StreamWanted(kStreamRoundBytes)) QueueStream(ino);
  fuse_reply_write(req, size);
}

void FileSystem::QueueStream(uint64_t ino) {
  {
    std::lock_guard lock(stream_mu_);
    if (stream_stop_ || !stream_queued_.insert(ino).second) return;
    stream_queue_.push_back(ino);
    if (!stream_thread_.joinable()) stream_thread_ = std::thread([this] { StreamLoop(); });
  }
  stream_wake_.notify_one();
}

void FileSystem::StreamLoop() {
  for (;;) {
    uint64_t ino = 0;
    {
      std::unique_lock lock(stream_mu_);
      stream_wake_.wait(lock, [this] { return stream_stop_ || !stream_queue_.empty(); });
      if (stream_stop_) return;
      ino = stream_queue_.front();
      stream_queue_.pop_front();
      stream_queued_.erase(ino);
    }
    StreamRound(ino);
  }
}

void FileSystem::StreamRound(uint64_t ino) {
  auto state = Find(ino);
  if (!state) return;
  std::optional<StreamClaim> claim;
  {
    std::lock_guard lock(state->mu);
    if (!state->overlay || state->orphan) return;
    claim = state->overlay->ClaimStream(kStreamRoundBytes + limits::kFsChunkMaxBytes);
  }
  if (!claim) return;
  // Read and cut without the lock: writes past the claim go on meanwhile; one inside it
  // voids the round.
  UploadJob job;
  job.ino = ino;
  job.state = state;
  job.claim = *claim;
  job.data.assign(claim->end - claim->begin, '\0');
  bool read = true;
  for (size_t got = 0; got < job.data.size();) {
    ssize_t n = ::pread(claim->fd, job.data.data() + got, job.data.size() - got,
                        static_cast<off_t>(claim->begin + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read = false;
    if (n <= 0) break;  // past the buffer's end: zeros
    got += static_cast<size_t>(n);
  }
  ::close(claim->fd);
  BuiltContent cut;
  uint64_t covered = read ? CutFinalChunks(job.data, claim->begin, false, &cut) : 0;
  bool upload = false;
  bool again = false;
  {
    std::lock_guard lock(state->mu);
    if (state->overlay && state->overlay->serial() == claim->serial) {
      upload = state->overlay->FinishCut(*claim, std::move(cut.extents), covered);
      again = upload && state->overlay->StreamWanted(kStreamRoundBytes);
    }
    state->stream_done.notify_all();
  }
  if (upload) {
    // The upload runs on its own thread while the next round is cut.
    job.chunks = std::move(cut.chunks);
    {
      std::lock_guard lock(stream_mu_);
      upload_queue_.push_back(std::move(job));
      if (!upload_thread_.joinable()) upload_thread_ = std::thread([this] { UploadLoop(); });
    }
    upload_wake_.notify_one();
  }
  if (again) QueueStream(ino);
}

void FileSystem::UploadLoop() {
  for (;;) {
    UploadJob job;
    {
      std::unique_lock lock(stream_mu_);
      upload_wake_.wait(lock, [this] { return stream_stop_ || !upload_queue_.empty(); });
      if (upload_queue_.empty()) return;  // stopping
      job = std::move(upload_queue_.front());
      upload_queue_.pop_front();
    }
    absl::Status status = absl::CancelledError("lattice-fuse is stopping");
    if (!link_->stopping()) {
      status = Upload(job.chunks, [&job](const NewChunk& chunk) -> absl::StatusOr<std::string> {
        return job.data.substr(chunk.offset - job.claim.begin, chunk.length);
      });
    }
    if (!status.ok()) {
      spdlog::warn("inode {}: uploading while writing failed; the close uploads instead: {}",
                   job.ino, std::string_view(status.message().data(), status.message().size()));
    }
    bool again = false;
    {
      std::lock_guard lock(job.state->mu);
      Overlay* overlay = job.state->overlay.get();
      if (overlay && overlay->serial() == job.claim.serial) {
        overlay->FinishUpload(job.claim, status.ok());
        again = overlay->StreamWanted(kStreamRoundBytes);
      }
      job.state->stream_done.notify_all();
    }
    if (again) QueueStream(job.ino);
  }
}

absl::Status FileSystem::Upload(
    const std::vector<NewChunk>& chunks,
    const std::function<absl::StatusOr<std::string>(const NewChunk&)>& bytes) {
  for (size_t first = 0; first < chunks.size(); first += limits::kMaxFsHashesPerCall) {
    size_t last = std::min(chunks.size(), first + limits::kMaxFsHashesPerCall);
    v1::FsMissingChunksRequest ask;
    ask.set_store(link_->store());
    for (size_t i = first; i < last; ++i) ask.add_hashes(chunks[i].hash);
    v1::FsMissingChunksResponse missing;
    absl::Status status = link_->Call("MissingChunks", &Fs::Stub::MissingChunks, ask, &missing);
    if (!status.ok()) return status;
    std::unordered_set<std::string> wanted(missing.missing().begin(), missing.missing().end());
    v1::FsPutChunksRequest put;
    size_t put_bytes = 0;
    auto send = [&]() -> absl::Status {
      if (put.chunks_size() == 0) return absl::OkStatus();
      put.set_store(link_->store());
      v1::FsPutChunksResponse stored;
      absl::Status sent = link_->Call("PutChunks", &Fs::Stub::PutChunks, put, &stored);
      put.Clear();
      put_bytes = 0;
      return sent;
    };
    for (size_t i = first; i < last; ++i) {
      const NewChunk& chunk = chunks[i];
      if (!wanted.contains(chunk.hash)) continue;
      if (put.chunks_size() + 1 > static_cast<int>(limits::kMaxFsChunksPerCall) ||
          put_bytes + chunk.length > limits::kMaxFsPutChunksBytes) {
        if (absl::Status sent = send(); !sent.ok()) return sent;
      }
      auto data = bytes(chunk);
      if (!data.ok()) return data.status();
      v1::FsChunk* out = put.add_chunks();
      out->set_hash(chunk.hash);
      out->set_data(std::move(*data));
      put_bytes += chunk.length;
    }
    if (absl::Status sent = send(); !sent.ok()) return sent;
  }
  return absl::OkStatus();
}

bool FileSystem::SendAlong(const BuiltContent& built, const Overlay& overlay,
                           v1::FsCommitRequest* request) {
  // Small new content rides in the commit itself: one call instead of asking which chunks
  // the kernel lacks and uploading them (it stores each chunk once whatever it held).
  size_t bytes = 0;
  for (const NewChunk& chunk : built.chunks) bytes += chunk.length;
  if (bytes > kSendAlongBytes || built.chunks.size() > limits::kMaxFsChunksPerCall) return false;
  for (const NewChunk& chunk : built.chunks) {
    auto data = overlay.ReadLocal(chunk.offset, chunk.length);
    if (!data.ok()) {
      request->clear_chunks();
      return false;  // Upload reads again and reports the failure
    }
    v1::FsChunk* out = request->add_chunks();
    out->set_hash(chunk.hash);
    out->set_data(std::move(*data));
  }
  return true;
}

absl::StatusOr<std::optional<v1::FsCommitRequest>> FileSystem::PrepareCommit(
    uint64_t ino, InodeState& state, v1::Durability durability) {
  if (!state.overlay || state.orphan) return std::nullopt;
  if (!state.overlay->dirty()) {
    state.overlay.reset();
    state.pending_attrs.reset();
    return std::nullopt;
  }
  // A streaming round of this overlay finishes first (its chunks then count).
  state.stream_done.wait(state.mu, [&state] {
    return !state.overlay || !state.overlay->stream_busy();
  });
  if (!state.overlay) return std::nullopt;
  Overlay& overlay = *state.overlay;
  std::vector<Extent> base;
  if (!overlay.base_version().empty()) {
    v1::FsLayoutRequest request;
    request.set_store(link_->store());
    request.set_ino(ino);
    request.set_version(overlay.base_version());
    v1::FsLayoutResponse layout;
    absl::Status status = link_->Call("Layout", &Fs::Stub::Layout, request, &layout);
    if (!status.ok()) return status;
    base.reserve(layout.extents_size());
    for (const auto& extent : layout.extents()) base.push_back(Extent{extent.hash(), extent.length()});
  }
  auto built = overlay.Build(base, Fetcher(ino, overlay.base_version()));
  if (!built.ok()) return built.status();
  v1::FsCommitRequest request;
  if (!SendAlong(*built, overlay, &request)) {
    absl::Status uploaded =
        Upload(built->chunks, [&overlay](const NewChunk& chunk) {
          return overlay.ReadLocal(chunk.offset, chunk.length);
        });
    if (!uploaded.ok()) return uploaded;
  }
  request.set_store(link_->store());
  request.set_ino(ino);
  for (const Extent& extent : built->extents) {
    v1::FsExtent* out = request.add_extents();
    out->set_hash(extent.hash);
    out->set_length(extent.length);
  }
  request.set_size(overlay.size());
  request.set_based_on(overlay.base_version());
  *request.mutable_mtime() = ToFsTime(overlay.mtime());
  if (state.pending_attrs) *request.mutable_attrs() = *state.pending_attrs;
  request.set_durability(durability);
  return request;
}

void FileSystem::FinishCommit(InodeState& state, const v1::FsStat& stat) {
  state.last_commit =
      InodeState::LastCommit{state.overlay->base_version(), stat, state.pending_attrs.has_value()};
  state.last = stat;
  state.cached_version = stat.version();
  state.overlay.reset();
  state.pending_attrs.reset();
}

absl::Status FileSystem::Commit(uint64_t ino, InodeState& state, v1::Durability durability) {
  auto request = PrepareCommit(ino, state, durability);
  if (!request.ok()) return request.status();
  if (!request->has_value()) return absl::OkStatus();
  v1::FsStat stat;
  absl::Status status = link_->Call("Commit", &Fs::Stub::Commit, **request, &stat);
  if (!status.ok()) return status;
  FinishCommit(state, stat);
  return absl::OkStatus();
}

absl::Status FileSystem::CommitAfterClose(uint64_t ino, InodeState& state, bool* queue) {
  *queue = false;
  if (!state.write_back_error.ok()) {
    // The commit after an earlier close failed: this close tries again, and tells.
    state.write_back_error = absl::OkStatus();
    return Commit(ino, state, kApplied);
  }
  if (!write_back_ || !state.overlay || state.orphan || !state.overlay->dirty() ||
      state.overlay->size() > kWriteBackMaxBytes) {
    return Commit(ino, state, kApplied);
  }
  *queue = true;
  return absl::OkStatus();
}

void FileSystem::SettleQueued(uint64_t ino, InodeState& state, const absl::Status& status) {
  if (FsErrnoOf(status) == ENOENT) {
    // Removed since it was closed, by this node or another: nothing is left to save it to.
    spdlog::debug("inode {} went before its writes were committed", ino);
    state.overlay.reset();
    state.pending_attrs.reset();
  } else if (!status.ok()) {
    spdlog::error("inode {}: the content written could not be saved after close: {} (the "
                  "next flush or fsync of the file tries again)",
                  ino, std::string_view(status.message().data(), status.message().size()));
    state.write_back_error = status;
  }
}

void FileSystem::CommitQueued(const std::vector<uint64_t>& inodes) {
  // Each inode's mu is held from its commit's preparation to its outcome, as a single
  // commit holds it, so no write slips between the content sent and the overlay dropped.
  // Taken in inode order: two threads' batches may share an inode (queued again while its
  // commit ran), and nothing else holds two of them.
  std::vector<uint64_t> sorted = inodes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<QueuedCommit> batch;
  batch.reserve(sorted.size());
  for (uint64_t ino : sorted) {
    auto state = Find(ino);
    if (state) batch.push_back(QueuedCommit{ino, state, std::unique_lock(state->mu), {}});
  }
  std::vector<QueuedCommit*> ready;
  for (QueuedCommit& item : batch) {
    auto request = PrepareCommit(item.ino, *item.state, kApplied);
    if (!request.ok()) {
      SettleQueued(item.ino, *item.state, request.status());
    } else if (request->has_value()) {
      item.request = **std::move(request);
      ready.push_back(&item);
    }
  }
  // As many to a call as the limits of one CommitMany allow.
  size_t first = 0;
  while (first < ready.size()) {
    size_t end = first;
    size_t bytes = 0, extents = 0, ops = 0;
    for (; end < ready.size() && end - first < kCommitsPerCall; ++end) {
      const v1::FsCommitRequest& r = ready[end]->request;
      size_t more_bytes = 0;
      for (const auto& chunk : r.chunks()) more_bytes += chunk.data().size();
      size_t more_extents = static_cast<size_t>(r.extents_size());
      size_t more_ops = r.has_attrs() ? 2 : 1;  // the write, and the attributes set with it
      if (end > first && (bytes + more_bytes > limits::kMaxFsPutChunksBytes ||
                          extents + more_extents > limits::kMaxFsExtentsPerVersion ||
                          ops + more_ops > limits::kMaxFsOpsPerIntention)) {
        break;
      }
      bytes += more_bytes;
      extents += more_extents;
      ops += more_ops;
    }
    CommitTogether(std::vector<QueuedCommit*>(ready.begin() + static_cast<std::ptrdiff_t>(first),
                                              ready.begin() + static_cast<std::ptrdiff_t>(end)));
    first = end;
  }
  for (QueuedCommit& item : batch) item.lock.unlock();
  for (QueuedCommit& item : batch) MaybeDrop(item.ino);
}

void FileSystem::CommitTogether(const std::vector<QueuedCommit*>& items) {
  if (items.size() == 1) {
    QueuedCommit& item = *items.front();
    v1::FsStat stat;
    absl::Status status = link_->Call("Commit", &Fs::Stub::Commit, item.request, &stat);
    if (status.ok()) FinishCommit(*item.state, stat);
    SettleQueued(item.ino, *item.state, status);
    return;
  }
  v1::FsCommitManyRequest request;
  request.set_store(link_->store());
  request.set_durability(kApplied);
  for (QueuedCommit* item : items) *request.add_commits() = std::move(item->request);
  v1::FsCommitManyResponse response;
  absl::Status status = link_->Call("CommitMany", &Fs::Stub::CommitMany, request, &response);
  if (status.ok() && response.results_size() != request.commits_size()) {
    status = absl::InternalError(fmt::format("CommitMany answered {} commits of {}",
                                             response.results_size(), request.commits_size()));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    QueuedCommit& item = *items[i];
    absl::Status outcome = status;
    if (status.ok()) {
      const v1::FsCommitResult& result = response.results(static_cast<int>(i));
      if (result.code() == 0) {
        FinishCommit(*item.state, result.stat());
      } else {
        outcome = StatusOfCode(result.code(), result.message());
      }
    }
    SettleQueued(item.ino, *item.state, outcome);
  }
}

void FileSystem::Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  auto state = Get(ino);
  bool queue = false;
  {
    std::lock_guard lock(state->mu);
    absl::Status status = CommitAfterClose(ino, *state, &queue);
    if (!status.ok()) {
      ReplyError(req, status);
      return;
    }
  }
  if (queue && !write_back_->Queue(ino)) {
    std::lock_guard lock(state->mu);
    absl::Status status = Commit(ino, *state, kApplied);
    if (!status.ok()) {
      ReplyError(req, status);
      return;
    }
  }
  fuse_reply_err(req, 0);
}

void FileSystem::Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto state = Get(ino);
  bool queue = false;
  // The flush before queued the file's commit: while it waits or runs (holding the inode's
  // lock for its whole batch) there is nothing to save here, and this thread need not wait
  // for the batch. A failure of that commit is told to the next flush or fsync, as ever.
  const bool pending = write_back_ && write_back_->Pending(ino);
  {
    std::unique_lock lock(state->mu, std::defer_lock);
    if (!pending) {
      lock.lock();
      absl::Status status = CommitAfterClose(ino, *state, &queue);
      if (!status.ok()) {
        spdlog::error("inode {}: the content written could not be saved at close: {}", ino,
                      std::string_view(status.message().data(), status.message().size()));
      }
    }
    bool last_close = false;
    {
      std::lock_guard table(mu_);
      state->open--;
      last_close = state->open == 0;
      // (When pending, the queued commit finds the orphan and saves nothing.)
      if (last_close && !pending && state->orphan) state->overlay.reset();
    }
    if (last_close) {
      // What was read ahead is kept for open files only.
      std::lock_guard read_lock(state->read_mu);
      state->ahead = ReadAhead{};
    }
  }
  if (queue && !write_back_->Queue(ino)) {
    std::lock_guard lock(state->mu);
    absl::Status status = Commit(ino, *state, kApplied);
    if (!status.ok()) {
      spdlog::error("inode {}: the content written could not be saved at close: {}", ino,
                    std::string_view(status.message().data(), status.message().size()));
    }
  }
  open_files_--;
  fuse_reply_err(req, 0);
  MaybeDrop(ino);
}

void FileSystem::Fsync(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info*) {
  auto state = Get(ino);
  {
    std::lock_guard lock(state->mu);
    // Whatever a queued commit of the file left undone is done here, and told.
    absl::Status status = Commit(ino, *state, kApplied);
    if (!status.ok()) {
      ReplyError(req, status);
      return;
    }
    state->write_back_error = absl::OkStatus();
  }
  SyncStore(req);
}

void FileSystem::FsyncDir(fuse_req_t req, fuse_ino_t /*ino*/) {
  // The files closed before are in the store before the barrier.
  if (write_back_) write_back_->Drain();
  SyncStore(req);
}

void FileSystem::SyncStore(fuse_req_t req) {
  AwaitRemovals();  // what was unlinked before is durable too
  v1::FsSyncRequest request;
  request.set_store(link_->store());
  v1::FsSyncResponse reply;
  absl::Status status = link_->Call("Sync", &Fs::Stub::Sync, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_err(req, 0);
}

void FileSystem::Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                           fuse_file_info* /*fi*/) {
  if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) != 0 ||
      ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))) {
    fuse_reply_err(req, EOPNOTSUPP);
    return;
  }
  if (offset < 0 || length <= 0) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  uint64_t end = static_cast<uint64_t>(offset) + static_cast<uint64_t>(length);
  if (end > limits::kMaxFsFileBytes) {
    fuse_reply_err(req, EFBIG);
    return;
  }
  auto state = Get(ino);
  std::lock_guard lock(state->mu);
  auto overlay = OverlayOf(ino, *state);
  if (!overlay.ok()) {
    ReplyError(req, overlay.status());
    return;
  }
  absl::Status status;
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    status = (*overlay)->Zero(static_cast<uint64_t>(offset), static_cast<uint64_t>(length));
  } else if (!(mode & FALLOC_FL_KEEP_SIZE) && end > (*overlay)->size()) {
    // Space is not reserved (chunks are shared and written at commit): the file grows.
    status = (*overlay)->Truncate(end);
  }
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_err(req, 0);
}

// ---- directories ---------------------------------------------------------------------------

void FileSystem::ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  AwaitRemovals();  // the kernel lists no name unlinked here
  std::string buffer(size, '\0');
  size_t used = 0;
  uint64_t offset = static_cast<uint64_t>(off);
  bool full = false;
  while (!full) {
    v1::FsReadDirRequest request;
    request.set_store(link_->store());
    request.set_ino(ino);
    request.set_offset(offset);
    request.set_max_entries(static_cast<uint32_t>(
        std::clamp<size_t>(size / (plus ? 128 : 32) + 1, 1, limits::kMaxFsReadDirEntries)));
    request.set_plus(plus);
    v1::FsReadDirResponse reply;
    absl::Status status = link_->Call("ReadDir", &Fs::Stub::ReadDir, request, &reply);
    if (!status.ok()) {
      if (used > 0) break;
      ReplyError(req, status);
      return;
    }
    for (const v1::FsDirEntry& entry : reply.entries()) {
      size_t added = 0;
      if (plus) {
        v1::FsStat stat = entry.stat();
        if (stat.ino() == 0) {
          stat.set_ino(entry.ino());
          stat.mutable_attr()->set_mode(entry.mode());
        }
        auto state = Get(stat.ino());
        fuse_entry_param param;
        {
          std::lock_guard lock(state->mu);
          param = EntryOf(Shown(*state, stat));
        }
        added = fuse_add_direntry_plus(req, buffer.data() + used, size - used,
                                       entry.name().c_str(), &param,
                                       static_cast<off_t>(entry.offset()));
        if (added > size - used) {
          full = true;
          MaybeDrop(stat.ino());
          break;
        }
        std::lock_guard lock(mu_);
        state->nlookup++;
      } else {
        struct stat attr {};
        attr.st_ino = entry.ino();
        attr.st_mode = entry.mode();
        added = fuse_add_direntry(req, buffer.data() + used, size - used, entry.name().c_str(),
                                  &attr, static_cast<off_t>(entry.offset()));
        if (added > size - used) {
          full = true;
          break;
        }
      }
      used += added;
      offset = entry.offset();
    }
    if (reply.end() || reply.entries_size() == 0) break;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

void FileSystem::StatFs(fuse_req_t req, fuse_ino_t /*ino*/) {
  v1::FsStatFsRequest request;
  request.set_store(link_->store());
  v1::FsStatFsResponse reply;
  absl::Status status = link_->Call("StatFs", &Fs::Stub::StatFs, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  struct statvfs out {};
  out.f_bsize = reply.block_size() ? reply.block_size() : 4096;
  out.f_frsize = out.f_bsize;
  out.f_blocks = reply.blocks();
  out.f_bfree = reply.blocks_free();
  out.f_bavail = reply.blocks_available();
  out.f_files = reply.files();
  out.f_ffree = reply.files_free();
  out.f_favail = reply.files_free();
  out.f_namemax = reply.name_max() ? reply.name_max() : limits::kMaxFsNameBytes;
  fuse_reply_statfs(req, &out);
}

// ---- extended attributes -------------------------------------------------------------------

void FileSystem::SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                          size_t size, int flags) {
  if (!IsUserXattr(name)) {
    fuse_reply_err(req, EOPNOTSUPP);
    return;
  }
  if (std::strlen(name) > limits::kMaxFsXattrNameBytes) {
    fuse_reply_err(req, ERANGE);
    return;
  }
  if (size > limits::kMaxFsXattrValueBytes) {
    fuse_reply_err(req, E2BIG);
    return;
  }
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_name(name);
  request.set_value(std::string(value, size));
  request.set_flags(static_cast<uint32_t>(flags) & (XATTR_CREATE | XATTR_REPLACE));
  request.set_durability(kApplied);
  v1::FsChangeReply reply;
  absl::Status status = link_->Call("SetXattr", &Fs::Stub::SetXattr, request, &reply);
  ForgetDir(ino);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_err(req, 0);
}

void FileSystem::GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  if (!IsUserXattr(name)) {
    // security.capability is asked before every write: answered here, never sent.
    fuse_reply_err(req, ENODATA);
    return;
  }
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_name(name);
  v1::FsXattrResponse reply;
  absl::Status status = link_->Call("GetXattr", &Fs::Stub::GetXattr, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  if (size == 0) {
    fuse_reply_xattr(req, reply.value().size());
  } else if (reply.value().size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, reply.value().data(), reply.value().size());
  }
}

void FileSystem::ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  v1::FsXattrResponse reply;
  absl::Status status = link_->Call("ListXattr", &Fs::Stub::ListXattr, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  std::string names;
  for (const std::string& name : reply.names()) {
    names += name;
    names.push_back('\0');
  }
  if (size == 0) {
    fuse_reply_xattr(req, names.size());
  } else if (names.size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, names.data(), names.size());
  }
}

void FileSystem::RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  if (!IsUserXattr(name)) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_name(name);
  request.set_durability(kApplied);
  v1::FsChangeReply reply;
  absl::Status status = link_->Call("RemoveXattr", &Fs::Stub::RemoveXattr, request, &reply);
  ForgetDir(ino);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_err(req, 0);
}

int FileSystem::CommitAll() {
  // Queued commits and unlinks are sent first; what commits could not save is tried once
  // more below.
  if (write_back_) write_back_->Stop();
  if (removals_) removals_->Stop();
  std::vector<std::pair<uint64_t, std::shared_ptr<InodeState>>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(inodes_.begin(), inodes_.end());
  }
  int failed = 0;
  for (auto& [ino, state] : all) {
    std::lock_guard lock(state->mu);
    absl::Status status = Commit(ino, *state, v1::DURABILITY_SYNCED);
    if (!status.ok()) {
      ++failed;
      spdlog::error("inode {}: unsaved writes lost at unmount: {}", ino,
                    std::string_view(status.message().data(), status.message().size()));
    }
  }
  return failed;
}

void FileSystem::ForgetDir(uint64_t dir) {
  dir_attrs_.Forget(dir);
  known_names_.Forget(dir);
}

void FileSystem::ForgetAllDirs() {
  dir_attrs_.ForgetAll();
  known_names_.ForgetAll();
}

// ---- changes from elsewhere ----------------------------------------------------------------

void FileSystem::Invalidate(const v1::FsChange& change) {
  ForgetAllDirs();
  if (session_ == nullptr) return;
  for (uint64_t ino : change.inodes()) {
    if (auto state = Find(ino)) {
      state->epoch++;
      std::unique_lock lock(state->mu, std::try_to_lock);
      if (lock.owns_lock()) state->cached_version.clear();
    }
    fuse_lowlevel_notify_inval_inode(session_, ino, 0, 0);
  }
  for (const auto& name : change.names()) {
    fuse_lowlevel_notify_inval_entry(session_, name.parent(), name.name().data(),
                                     name.name().size());
  }
}

}  // namespace lattice::fuse
