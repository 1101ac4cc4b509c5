// FileSystem: creates answered here and sent later (creates.h): the answer, the sending, and
// what the kernel said of each.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_conflict_names.h"
#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_ids.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "src/attrs.h"
#include "src/filesystem.h"
#include "src/filesystem_tuning.h"

namespace lattice::fuse {

using v1::Fs;

namespace {

// The name a file made here keeps when another client took its name before the create
// arrived, in the form the kernel gives a name conflict between nodes, the mount's nonce
// standing for the node's name; the name is cut so the whole stays within the longest name.
std::string ConflictNameOf(const std::string& name, const std::string& nonce) {
  const uint64_t now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  const std::string who = ToHex(nonce.substr(0, 4));
  std::string whole = FsConflictName(name, now_ms, who);
  if (whole.size() <= limits::kMaxFsNameBytes) return whole;
  return FsConflictName(name.substr(0, name.size() - (whole.size() - limits::kMaxFsNameBytes)),
                        now_ms, who);
}

}  // namespace

bool FileSystem::MakeNodeHere(uint64_t parent, const std::string& name, mode_t mode,
                              const fuse_ctx& context, v1::FsEntryReply* reply) {
  const bool dir = S_ISDIR(mode);
  if (!creates_ || (!S_ISREG(mode) && !dir)) return false;
  // Only a name known to be free (a directory made here): anywhere else the kernel says.
  if (known_names_.Find(parent, name) != KnownNames::Answer::kAbsent) return false;
  v1::FsCreateRequest request;
  request.set_store(link_->store());
  request.set_parent(parent);
  request.set_name(name);
  request.set_mode(mode);
  request.set_uid(context.uid);
  request.set_gid(context.gid);
  request.set_durability(kApplied);
  request.set_nonce(RandomBytes(kFsNonceBytes));
  const uint64_t ino = FsMintedId(options_.author, request.nonce());
  // What the kernel will answer (the create carries the times shown here; the file's mtime
  // and ctime are then its first content's).
  v1::FsStat* stat = reply->mutable_stat();
  stat->set_ino(ino);
  v1::FsAttr* attr = stat->mutable_attr();
  attr->set_mode((mode & 07777) | (dir ? S_IFDIR : S_IFREG));
  attr->set_uid(context.uid);
  attr->set_gid(context.gid);
  const v1::FsTime now = ToFsTime(WallNow());
  *attr->mutable_atime() = now;
  *attr->mutable_mtime() = now;
  *attr->mutable_ctime() = now;
  *request.mutable_time() = now;
  stat->set_nlink(dir ? 2 : 1);
  reply->set_name(name);
  spdlog::trace("create {} in {}: inode {}, answered here", Quote(name), parent, ino);
  if (creates_->Add(ino, std::move(request)) >= kCreatesWaiting) SendPendingCreates();
  return true;
}

bool FileSystem::RenameHere(uint64_t parent, const std::string& name, uint64_t new_parent,
                            const std::string& new_name, unsigned int flags) {
  if (!creates_ || creates_->Quiet()) return false;
  // Not into a directory whose own create waits: it would be sent after the file's.
  if (creates_->Pending(new_parent)) return false;
  uint64_t replaces = 0;
  if (known_names_.Find(new_parent, new_name) != KnownNames::Answer::kAbsent) {
    // Onto a name that may be taken: only over a file this daemon answered there (never a
    // directory: that is EISDIR), whose own create was sent (the kernel must know it), and
    // that is not open (its last name going, it would have to be kept here while open).
    if (flags & RENAME_NOREPLACE) return false;
    std::optional<uint64_t> target = entry_inodes_.FileAt(new_parent, new_name);
    if (!target || creates_->Pending(*target)) return false;
    if (auto state = Find(*target)) {
      std::lock_guard lock(mu_);
      if (state->open != 0) return false;
    }
    replaces = *target;
  }
  if (!creates_->Rename(parent, name, new_parent, new_name, replaces)) return false;
  if (replaces != 0) {
    // It loses this name (its links and ctime move) once the create goes: what is held of
    // it is asked for again, and that call sends the create first (PendingCreates).
    if (auto state = Find(replaces)) state->changes.fetch_add(1);
  }
  const v1::FsTime now = ToFsTime(WallNow());
  entry_inodes_.NoteRenamed(parent, name, new_parent, new_name, false);
  dir_attrs_.NoteRenamed(parent, new_parent, now);
  known_names_.NoteRenamed(parent, name, new_parent, new_name, false, now);
  spdlog::trace("rename {} in {} to {} in {} (replacing inode {}): its create not sent yet, "
                "renamed here", Quote(name), parent, Quote(new_name), new_parent, replaces);
  return true;
}

void FileSystem::SendPendingCreates() {
  if (!creates_ || creates_->Quiet()) return;
  std::vector<PendingCreate> taken = creates_->TakeAll();
  if (!taken.empty()) SendCreates(std::move(taken));
  // Those another thread took (a write-back batch) must have arrived too.
  creates_->AwaitInFlight();
}

void FileSystem::SendCreates(std::vector<PendingCreate> creates) {
  KernelLink::Unhooked unhooked;
  for (size_t first = 0, end = 0; first < creates.size(); first = end) {
    // As many as the intention's ops hold.
    for (size_t ops = 0; end < creates.size(); ++end) {
      ops += limits::FsCreateOps(creates[end].request.replaces() != 0);
      if (ops > limits::kMaxFsOpsPerIntention) break;
    }
    v1::FsCommitManyRequest request;
    request.set_store(link_->store());
    request.set_durability(kApplied);
    for (size_t i = first; i < end; ++i) *request.add_creates() = creates[i].request;
    v1::FsCommitManyResponse response;
    absl::Status status = link_->Call("CommitMany", &Fs::Stub::CommitMany, request, &response);
    if (status.ok() && response.created_size() != request.creates_size()) {
      status = absl::InternalError(fmt::format("CommitMany answered {} creates of {}",
                                               response.created_size(), request.creates_size()));
    }
    std::vector<uint64_t> sent;
    for (size_t i = first; i < end; ++i) {
      const int at = static_cast<int>(i - first);
      SettleCreate(creates[i], status.ok() ? StatusOfCode(response.created(at).code(),
                                                          response.created(at).message())
                                           : status);
      sent.push_back(creates[i].ino);
    }
    creates_->Done(sent);
  }
}

bool FileSystem::SettleCreate(const PendingCreate& create, const absl::Status& status) {
  const v1::FsCreateRequest& request = create.request;
  if (status.ok()) {
    spdlog::trace("created {} in {}: inode {}", Quote(request.name()), request.parent(),
                  create.ino);
    return true;
  }
  // What this daemon knew of the directory's names was wrong, whatever happened.
  known_names_.Forget(request.parent());
  const int err = FsErrnoOf(status);
  if (err == EEXIST || (request.replaces() != 0 && err == EISDIR)) {
    // Another client made the name (or put a directory where the file it replaces was)
    // before this create arrived: the file is kept under a conflict name, as the kernel
    // keeps both files of two nodes creating one name.
    v1::FsCommitManyRequest again;
    again.set_store(link_->store());
    again.set_durability(kApplied);
    v1::FsCreateRequest* renamed = again.add_creates();
    *renamed = request;
    renamed->set_name(ConflictNameOf(request.name(), request.nonce()));
    renamed->set_replaces(0);
    v1::FsCommitManyResponse response;
    absl::Status retried = link_->Call("CommitMany", &Fs::Stub::CommitMany, again, &response);
    if (retried.ok() && response.created_size() == 1) {
      retried = StatusOfCode(response.created(0).code(), response.created(0).message());
    }
    if (retried.ok()) {
      spdlog::warn("{} in directory {} was made by another client before this mount's file "
                   "of that name reached the kernel: this mount's file is kept as {}",
                   Quote(request.name()), request.parent(), Quote(renamed->name()));
      return true;
    }
    spdlog::error("the file {} made in directory {} could not be kept under another name: {}",
                  Quote(request.name()), request.parent(), retried.message());
    return false;
  }
  spdlog::error("the file {} made in directory {} could not be created in the store (its "
                "content cannot be saved): {}",
                Quote(request.name()), request.parent(), status.message());
  return false;
}

}  // namespace lattice::fuse
