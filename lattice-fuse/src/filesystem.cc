// FileSystem: the FUSE callbacks, the inode table, replies, and the changes heard from
// elsewhere. Names, content, commits, listings and xattrs are in filesystem_*.cc.
#include "src/filesystem.h"

#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/quote.h"
#include "src/attrs.h"
#include "src/filesystem_tuning.h"

namespace lattice::fuse {
namespace {

using v1::Fs;

FileSystem* Self(fuse_req_t req) { return static_cast<FileSystem*>(fuse_req_userdata(req)); }

// ---- C callbacks -------------------------------------------------------------------------

void OpInit(void* /*userdata*/, fuse_conn_info* conn) {
  // Writes come through the daemon one by one (no writeback cache), so sizes and O_APPEND
  // stay exact; the FUSE kernel module handles locks and the setuid bits on write itself.
  // (libfuse 3.14 never passes FUSE_CAP_HANDLE_KILLPRIV on to the module, so even asked for,
  // the module would still refresh a file's mode before each chown: GetAttr answers that
  // from what it holds of a file being written.)
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
          std::chrono::duration<double>(options.entry_timeout_s))),
      entry_inodes_(kEntryInodesHeld),
      kept_content_(kKeptContentBytes, kKeptContentFileBytes) {
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
  // Creates go with the write-back's commits: without it, each waits for the kernel.
  if (!options_.author.empty() && write_back_) {
    creates_ = std::make_unique<PendingCreates>();
    link_->set_before_call([this] { SendPendingCreates(); });
  }
}

FileSystem::~FileSystem() {
  if (write_back_) write_back_->Stop();
  SendPendingCreates();
  if (creates_) link_->set_before_call(nullptr);
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

void FileSystem::ReplyEntry(fuse_req_t req, uint64_t parent, const std::string& name,
                            const v1::FsStat& raw) {
  entry_inodes_.Note(parent, name, raw.ino(), S_ISDIR(raw.attr().mode()));
  auto state = Get(raw.ino());
  v1::FsStat stat;
  {
    std::lock_guard lock(state->mu);
    stat = Shown(*state, raw);
  }
  fuse_entry_param entry = EntryOf(stat);
  spdlog::trace("entry {} in {}: inode {}, {} links, size {}", Quote(name), parent, raw.ino(),
                stat.nlink(), stat.size());
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
  // The creates waiting stay waiting when the answer cannot depend on them (the attributes
  // a program opening a file checks, as sed -i does for each file it edits).
  std::optional<KernelLink::Unhooked> unhooked;
  if (creates_ && !creates_->Quiet() && !creates_->AffectsInode(ino)) unhooked.emplace();
  absl::Status status = link_->Call("GetAttr", &Fs::Stub::GetAttr, request, &reply);
  if (!status.ok()) return status;
  return reply;
}

absl::StatusOr<v1::FsStat> FileSystem::StatSeeingRemovals(uint64_t ino) {
  const uint64_t since = RemovalsMark();
  auto stat = Stat(ino);
  if (stat.ok() && MayMissRemovals(*stat, since)) {
    AwaitRemovals();
    stat = Stat(ino);
  }
  return stat;
}

void FileSystem::RefreshSeeingRemovals(uint64_t ino, uint64_t since, v1::FsStat* stat) {
  if (!MayMissRemovals(*stat, since)) return;
  AwaitRemovals();
  if (auto fresh = Stat(ino); fresh.ok()) *stat = *fresh;
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
    kept_content_.Forget(ino);  // an older version now: free its memory for files read here
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
