// FileSystem: names and attributes (lookup, getattr, setattr, create, link, rename, unlink).
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

using v1::Fs;

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
  if (LookupHere(req, parent, name)) return;
  v1::FsEntryReply reply;
  absl::Status status;
  bool asked = false;
  if (creates_ && !creates_->Quiet() && !creates_->Affects(parent, name)) {
    // The kernel's answer about this name cannot depend on the creates waiting (the name
    // is none of theirs), so they stay waiting: the rename of a new file over this one (the
    // FUSE module always looks the target up again) is then answered here too. A directory
    // is asked again after them: its links may count directories made in it here.
    KernelLink::Unhooked unhooked;
    status = LookupSeeingRemovals(parent, name, &reply);
    asked = !status.ok() || !S_ISDIR(reply.stat().attr().mode());
  }
  if (!asked) status = LookupSeeingRemovals(parent, name, &reply);
  if (!status.ok()) {
    if (FsErrnoOf(status) == ENOENT) {
      reply_absent();
      return;
    }
    ReplyError(req, status);
    return;
  }
  ReplyEntry(req, parent, name, reply.stat());
}

bool FileSystem::LookupHere(fuse_req_t req, uint64_t parent, const std::string& name) {
  auto entry = known_names_.Present(parent, name);
  if (!entry || !S_ISREG(entry->type)) return false;
  auto state = Find(entry->ino);
  if (!state) return false;
  v1::FsStat held;
  {
    std::lock_guard lock(state->mu);
    if (state->orphan || state->last.ino() != entry->ino || !S_ISREG(state->last.attr().mode()) ||
        !(AnswersAttrs(*state) || HeldAttrsCurrent(*state))) {
      return false;
    }
    held = state->last;
  }
  spdlog::trace("lookup {} in {}: inode {}, answered here", Quote(name), parent, entry->ino);
  ReplyEntry(req, parent, name, held);
  return true;
}

absl::Status FileSystem::LookupSeeingRemovals(uint64_t parent, const std::string& name,
                                              v1::FsEntryReply* reply) {
  v1::FsLookupRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  const uint64_t since = RemovalsMark();
  absl::Status status = link_->Call("Lookup", &Fs::Stub::Lookup, request, reply);
  if (status.ok() && MayMissRemovals(reply->stat(), since)) {
    AwaitRemovals();
    status = link_->Call("Lookup", &Fs::Stub::Lookup, request, reply);
  }
  return status;
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
    // Orphans are known only here. A file is asked about again after each read and write,
    // and before every chown (the FUSE module refreshes the mode it drops setuid from:
    // libfuse 3.14 never lets it leave that to the daemon): see AnswersAttrs.
    if (state->orphan || (S_ISREG(state->last.attr().mode()) && AnswersAttrs(*state))) {
      struct stat attr = ToStat(Shown(*state, state->last));
      spdlog::trace("getattr {}: {} links, size {}, answered here", ino, attr.st_nlink,
                    attr.st_size);
      fuse_reply_attr(req, &attr, options_.attr_timeout_s);
      return;
    }
  }
  uint64_t generation = dir_attrs_.generation();
  auto mark = MarkExact(*state);
  const uint64_t since = RemovalsMark();
  auto stat = Stat(ino);
  if (stat.ok() && MayMissRemovals(*stat, since)) {
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
    if (S_ISREG(stat->attr().mode())) NoteExact(*state, mark);
  }
  spdlog::trace("getattr {}: {} links, size {}, from the kernel", ino, attr.st_nlink,
                attr.st_size);
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
    // The answer is the attributes held here, fetched again unless they are exact (a rename
    // that replaced another name of the file, or an unlink still queued here, changed its
    // link count since).
    if (MayMissRemovals(state->last, RemovalsMark())) AwaitRemovals();
    if (!AnswersAttrs(*state)) {
      if (auto fresh = FetchLast(ino, *state); !fresh.ok()) {
        ReplyError(req, fresh.status());
        return;
      }
    }
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
    const uint64_t since = RemovalsMark();
    absl::Status status = link_->Call("SetAttr", &Fs::Stub::SetAttr, request, &stat);
    if (status.ok() && S_ISDIR(stat.attr().mode())) {
      // Its names stay as they were (rsync sets a directory's mode as it makes it).
      dir_attrs_.Forget(ino);
      known_names_.NoteAttrsSet(stat);
    } else {
      ForgetDir(ino);
    }
    if (!status.ok()) {
      ReplyError(req, status);
      return;
    }
    RefreshSeeingRemovals(ino, since, &stat);
    if (request.has_size()) state->cached_version = stat.version();
  } else {
    auto fresh = StatSeeingRemovals(ino);
    if (!fresh.ok()) {
      ReplyError(req, fresh.status());
      return;
    }
    stat = *fresh;
  }
  struct stat out = ToStat(Shown(*state, stat));
  fuse_reply_attr(req, &out, options_.attr_timeout_s);
}

void FileSystem::NoteExact(InodeState& state, InodeState::ExactMark mark) {
  // An unlink sent since `mark` moved the generation it holds; one still queued is seen here.
  if (MayMissRemovals(state.last, RemovalsMark())) {
    state.exact.reset();  // an unlink still queued here will change its links
    return;
  }
  state.exact = mark;
  state.exact_at = std::chrono::steady_clock::now();
}

absl::StatusOr<v1::FsStat> FileSystem::FetchLast(uint64_t ino, InodeState& state) {
  auto mark = MarkExact(state);
  auto stat = Stat(ino);
  if (!stat.ok()) return stat.status();
  state.last = *stat;
  NoteExact(state, mark);
  return stat;
}

void FileSystem::NoteAttrsChanged(const google::protobuf::RepeatedField<uint64_t>& inodes) {
  // A fetch in flight now holds a mark taken after its state existed (Get comes before
  // MarkExact), so the state is found here and the mark falls behind.
  for (uint64_t ino : inodes) {
    if (auto state = Find(ino)) state->changes.fetch_add(1);
  }
}

void FileSystem::FollowMove(uint64_t ino, uint64_t changes_before, const v1::FsTime& stamped) {
  auto state = Find(ino);
  if (!state) return;
  std::lock_guard lock(state->mu);
  if (!S_ISREG(state->last.attr().mode()) || !state->exact ||
      state->exact->changes != changes_before) {
    return;
  }
  // The one change this rename counted (NoteAttrsChanged) is followed here: a file's move
  // changes its ctime, to the time stamped, and nothing else. If anything else moved the
  // attributes too, they stay unexact (none of the counters goes back), and are left alone.
  state->exact->changes = changes_before + 1;
  if (HeldUnmoved(*state)) *state->last.mutable_attr()->mutable_ctime() = stamped;
}

bool FileSystem::HeldUnmoved(const InodeState& state) const {
  return state.exact && state.exact->epoch == state.epoch.load() &&
         state.exact->generation == exact_generation_.load() &&
         state.exact->changes == state.changes.load();
}

bool FileSystem::AnswersAttrs(const InodeState& state) const {
  if (!HeldUnmoved(state)) return false;
  if (state.overlay) return true;
  return std::chrono::steady_clock::now() - state.exact_at <
         std::chrono::duration<double>(options_.attr_timeout_s);
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
  v1::FsEntryReply reply;
  absl::Status status;
  // A new file opened by its creator, or a directory: answered here, sent with the file's
  // first content (creates.h).
  const bool here = (create_fi != nullptr || S_ISDIR(mode)) && symlink_target == nullptr &&
                    MakeNodeHere(parent, name, mode, *context, &reply);
  if (!here) {
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
    status = link_->Call("Create", &Fs::Stub::Create, request, &reply);
  }
  // The name was taken after all (made by another client of this node, not yet seen): what
  // this daemon knew of the directory's names is wrong.
  if (FsErrnoOf(status) == EEXIST) known_names_.Forget(parent);
  bool existed = false;
  if (!status.ok() && create_fi != nullptr && !(create_fi->flags & O_EXCL) &&
      FsErrnoOf(status) == EEXIST) {
    // The name appeared since the FUSE kernel module last looked (another node, before the
    // watch said so): open(O_CREAT) without O_EXCL opens what is there.
    status = LookupSeeingRemovals(parent, name, &reply);
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
    ReplyEntry(req, parent, name, reply.stat());
    return;
  }
  entry_inodes_.Note(parent, name, reply.stat().ino(), S_ISDIR(reply.stat().attr().mode()));
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
      NoteExact(*state, MarkExact(*state));
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
  v1::FsEntryReply reply;
  if (!LookupSeeingRemovals(parent, name, &reply).ok()) return nullptr;
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
  const ExactAttrsChange change(*this);
  if (!dir && RemoveLater(parent, name)) {
    spdlog::trace("unlink {} in {}: queued", Quote(name), parent);
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
  std::optional<uint64_t> removed = entry_inodes_.Take(parent, name);
  spdlog::trace("{} {} in {}: sent ({})", dir ? "rmdir" : "unlink", Quote(name), parent,
                status.ok() ? "done" : std::string(status.message()));
  known_names_.Forget(parent);
  if (status.ok() && reply.has_stamped() && !dir) {
    dir_attrs_.NoteRemoved(parent, reply.stamped());
  } else if (status.ok() && reply.has_stamped() && removed) {
    dir_attrs_.NoteDirRemoved(parent, *removed, reply.stamped());
    known_names_.Forget(*removed);
  } else if (dir) {
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
  if ((flags & RENAME_EXCHANGE) == 0 && RenameHere(parent, name, new_parent, new_name, flags)) {
    fuse_reply_err(req, 0);
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
  // The file moved, and how many changes of its held attributes were counted before the call.
  std::optional<std::pair<uint64_t, uint64_t>> moved;
  if ((flags & RENAME_EXCHANGE) == 0) {
    if (auto ino = entry_inodes_.FileAt(parent, name)) {
      if (auto state = Find(*ino)) moved.emplace(*ino, state->changes.load());
    }
  }
  v1::FsChangeReply reply;
  absl::Status status = link_->Call("Rename", &Fs::Stub::Rename, request, &reply);
  // The kernel says whose attributes moved (the file moved, the one it replaced); any
  // attributes fetched of those before now are asked for again. Failed, it may still have
  // been applied: none are trusted.
  if (status.ok()) {
    NoteAttrsChanged(reply.touched());
    if (moved && reply.has_stamped() && !reply.moved_directory()) {
      FollowMove(moved->first, moved->second, reply.stamped());
    }
  } else {
    exact_generation_.fetch_add(1);
  }
  spdlog::trace("rename {} in {} to {} in {}: {}", Quote(name), parent, Quote(new_name),
                new_parent, status.ok() ? "done" : std::string(status.message()));
  if (status.ok()) {
    entry_inodes_.NoteRenamed(parent, name, new_parent, new_name, (flags & RENAME_EXCHANGE) != 0);
  }
  if (status.ok() && reply.has_stamped() && !reply.moved_directory()) {
    // A file moved: its two directories changed, at the time the kernel says.
    dir_attrs_.NoteRenamed(parent, new_parent, reply.stamped());
    known_names_.NoteRenamed(parent, name, new_parent, new_name,
                             (flags & RENAME_EXCHANGE) != 0, reply.stamped());
  } else {
    ForgetAllDirs();
  }
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
  const ExactAttrsChange change(*this);
  v1::FsLinkRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_new_parent(new_parent);
  request.set_new_name(new_name);
  request.set_durability(kApplied);
  v1::FsEntryReply reply;
  const uint64_t since = RemovalsMark();
  absl::Status status = link_->Call("Link", &Fs::Stub::Link, request, &reply);
  ForgetDir(new_parent);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  RefreshSeeingRemovals(ino, since, reply.mutable_stat());
  ReplyEntry(req, new_parent, new_name, reply.stat());
}

}  // namespace lattice::fuse
