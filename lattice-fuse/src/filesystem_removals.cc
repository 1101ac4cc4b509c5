// FileSystem: unlinks answered here and sent to the kernel in batches (removals.h).
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <optional>

#include "lattice/common/fs_errno.h"
#include "lattice/common/quote.h"
#include "src/attrs.h"
#include "src/filesystem.h"

namespace lattice::fuse {
namespace {

// A removal that failed because the kernel will not take this daemon's removals (its token
// may not write, the store went read-only, the kernel predates RemoveMany): unlinks are then
// sent one by one again, so that each failure reaches the program that asked.
bool RefusesRemovals(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      break;
  }
  int err = FsErrnoOf(status);
  return err == EACCES || err == EPERM || err == EROFS;
}

}  // namespace

bool FileSystem::RemoveLater(uint64_t parent, const std::string& name) {
  if (!removals_ || !removals_proven_.load() || removals_refused_.load() ||
      open_files_.load() != 0) {
    return false;
  }
  // Sent later, the removal names the inode unlinked now (entry_inodes.h); a name whose
  // inode is not held here is removed at once.
  std::optional<uint64_t> ino = entry_inodes_.Take(parent, name);
  if (!ino || !removals_->Queue(parent, name, *ino)) return false;
  // The kernel stamps the directory only once it has the unlink.
  dir_attrs_.NoteRemoved(parent, ToFsTime(WallNow()));
  known_names_.Forget(parent);
  return true;
}

void FileSystem::AwaitRemovals() {
  if (removals_ && !removals_->Empty()) removals_->Drain();
}

void FileSystem::AwaitRemovalOf(uint64_t parent, const std::string& name) {
  if (removals_ && removals_->Pending(parent, name)) removals_->Drain();
}

uint64_t FileSystem::RemovalsMark() const { return removals_ ? removals_->Finished() : 0; }

bool FileSystem::MayMissRemovals(const v1::FsStat& stat, uint64_t since) const {
  if (!removals_) return false;
  const bool sent_meanwhile = removals_->Finished() != since;
  if (S_ISDIR(stat.attr().mode())) return sent_meanwhile || removals_->PendingIn(stat.ino());
  return stat.nlink() > 1 && (sent_meanwhile || !removals_->Empty());
}

absl::Status FileSystem::RemoveNow(const Removal& removal) {
  v1::FsRemoveRequest request;
  request.set_store(link_->store());
  request.set_parent(removal.parent);
  request.set_name(removal.name);
  request.set_ino(removal.ino);
  request.set_durability(v1::DURABILITY_APPLIED);
  v1::FsChangeReply reply;
  const ExactAttrsChange change(*this);
  return link_->Call("Remove", &v1::Fs::Stub::Remove, request, &reply);
}

void FileSystem::SendRemovals(const std::vector<Removal>& batch) {
  v1::FsRemoveManyRequest request;
  request.set_store(link_->store());
  request.set_durability(v1::DURABILITY_APPLIED);
  for (const Removal& removal : batch) {
    v1::FsRemoveRequest* one = request.add_removals();
    one->set_parent(removal.parent);
    one->set_name(removal.name);
    one->set_ino(removal.ino);
  }
  v1::FsRemoveManyResponse reply;
  absl::Status status;
  {
    const ExactAttrsChange change(*this);
    status = link_->Call("RemoveMany", &v1::Fs::Stub::RemoveMany, request, &reply);
  }
  spdlog::trace("sent {} unlinks: {}", batch.size(),
                status.ok() ? "answered" : std::string(status.message()));
  std::vector<absl::Status> outcomes;
  if (status.ok() && reply.results_size() == request.removals_size()) {
    for (const v1::FsRemoveResult& result : reply.results()) {
      outcomes.push_back(StatusOfCode(result.code(), result.message()));
    }
  } else {
    if (status.ok()) status = absl::InternalError("the kernel answered a RemoveMany for fewer names");
    outcomes.assign(batch.size(), status);
  }
  // Per directory: whether every removal there went in the call's intention, so its held
  // times move to the kernel's stamp; otherwise (one failed, or was sent again on its own)
  // its attributes are asked again.
  std::map<uint64_t, bool> all_in_call;
  for (size_t i = 0; i < batch.size(); ++i) {
    absl::Status& outcome = outcomes[i];
    bool& in_call = all_in_call.try_emplace(batch[i].parent, true).first->second;
    if (outcome.ok()) continue;
    in_call = false;
    if (RefusesRemovals(outcome) && !removals_refused_.exchange(true)) {
      spdlog::warn("the kernel refused unlinks sent together ({}); each unlink is sent on its "
                   "own from now on",
                   std::string_view(outcome.message().data(), outcome.message().size()));
    }
    // Sent again on its own: one that did not fit the call's intention, or all of a call
    // that failed as a whole (the kernel restarting, say).
    if (outcome.code() == absl::StatusCode::kResourceExhausted || !status.ok()) {
      outcome = RemoveNow(batch[i]);
    }
    if (outcome.ok() || FsErrnoOf(outcome) == ENOENT) continue;  // gone either way
    spdlog::error("unlink of {} in directory {} answered, but the kernel did not remove it: {}",
                  Quote(batch[i].name), batch[i].parent,
                  std::string_view(outcome.message().data(), outcome.message().size()));
  }
  for (const auto& [parent, in_call] : all_in_call) {
    if (in_call && reply.has_stamped()) {
      dir_attrs_.NoteRemoved(parent, reply.stamped());
      known_names_.Forget(parent);
    } else {
      ForgetDir(parent);
    }
    // The FUSE module may keep the times answered with the unlinks (this machine's clock)
    // for its whole attribute time: it drops them and asks again, answered from here.
    if (session_ != nullptr) fuse_lowlevel_notify_inval_inode(session_, parent, -1, 0);
  }
}

}  // namespace lattice::fuse
