// FileSystem: saving what was written (the commit of an overlay, the write-back queue and its CommitMany batches, flush, release, fsync, and every file at unmount).
#include "src/filesystem.h"

#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "src/attrs.h"
#include "src/filesystem_tuning.h"

namespace lattice::fuse {

using v1::Fs;

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
  // The ctime Shown showed for these writes: a commit landing after close keeps it (git
  // rereads every file whose ctime moved since checkout).
  v1::FsTime ctime = ToFsTime(overlay.mtime());
  if (state.pending_attrs) {
    *request.mutable_attrs() = *state.pending_attrs;
    KeepLatest(&ctime, ToFsTime(state.pending_ctime));
  }
  *request.mutable_ctime() = ctime;
  request.set_durability(durability);
  return request;
}

void FileSystem::FinishCommit(InodeState& state, const v1::FsStat& stat) {
  spdlog::trace("committed {}: {} links, size {}", stat.ino(), stat.nlink(), stat.size());
  // The committed version is the write buffer's content: kept to be read back.
  const Overlay& written = *state.overlay;
  if (written.HoldsAll() && written.size() == stat.size() &&
      written.size() <= kept_content_.max_file_bytes()) {
    if (auto data = written.ReadLocal(0, written.size()); data.ok()) {
      kept_content_.Put(stat.ino(), stat.version(), *std::move(data));
    }
  }
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
  const bool dirty = state.overlay && state.overlay->dirty();
  if (!dirty && creates_ && creates_->Pending(ino)) {
    // Made here and not sent yet, with nothing written: its create goes with the next batch.
    *queue = true;
    return absl::OkStatus();
  }
  if (!write_back_ || !dirty || state.orphan || state.overlay->size() > kWriteBackMaxBytes) {
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
  // The creates of these files answered here go with their commits; from here on, this
  // thread's calls send no other creates (they would wait for these).
  std::map<uint64_t, PendingCreate> creates;
  std::vector<uint64_t> created;
  if (creates_) {
    for (PendingCreate& create : creates_->TakeFor(sorted)) {
      created.push_back(create.ino);
      creates.emplace(create.ino, std::move(create));
    }
  }
  KernelLink::Unhooked unhooked;
  // Files with nothing to commit, and the directories the files are in: their creates
  // alone, first.
  std::vector<PendingCreate> alone;
  for (auto it = creates.begin(); it != creates.end();) {
    bool committed = std::any_of(ready.begin(), ready.end(),
                                 [&it](const QueuedCommit* item) { return item->ino == it->first; });
    if (committed) {
      ++it;
      continue;
    }
    alone.push_back(std::move(it->second));
    it = creates.erase(it);
  }
  // In answer order: a directory made here before the files and directories made in it.
  std::sort(alone.begin(), alone.end(),
            [](const PendingCreate& a, const PendingCreate& b) { return a.seq < b.seq; });
  if (!alone.empty()) SendCreates(std::move(alone));
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
      if (auto made = creates.find(ready[end]->ino); made != creates.end()) {
        more_ops += limits::FsCreateOps(made->second.request.replaces() != 0);
      }
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
                                              ready.begin() + static_cast<std::ptrdiff_t>(end)),
                   creates);
    first = end;
  }
  if (creates_) creates_->Done(created);
  for (QueuedCommit& item : batch) item.lock.unlock();
  for (QueuedCommit& item : batch) MaybeDrop(item.ino);
}

void FileSystem::CommitTogether(const std::vector<QueuedCommit*>& items,
                                std::map<uint64_t, PendingCreate>& creates) {
  std::vector<const PendingCreate*> made_with;  // the creates sent along, in request order
  for (QueuedCommit* item : items) {
    if (auto it = creates.find(item->ino); it != creates.end()) made_with.push_back(&it->second);
  }
  if (items.size() == 1 && made_with.empty()) {
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
  for (const PendingCreate* create : made_with) *request.add_creates() = create->request;
  for (QueuedCommit* item : items) *request.add_commits() = item->request;
  v1::FsCommitManyResponse response;
  absl::Status status = link_->Call("CommitMany", &Fs::Stub::CommitMany, request, &response);
  if (status.ok() && (response.results_size() != request.commits_size() ||
                      response.created_size() != request.creates_size())) {
    status = absl::InternalError(fmt::format(
        "CommitMany answered {} commits of {} and {} creates of {}", response.results_size(),
        request.commits_size(), response.created_size(), request.creates_size()));
  }
  // A file whose create failed but was made again (under a conflict name) is committed
  // again on its own: its content is not lost with its name.
  std::set<uint64_t> made_again;
  for (size_t i = 0; i < made_with.size(); ++i) {
    absl::Status made = status;
    if (status.ok()) {
      const v1::FsCommitResult& result = response.created(static_cast<int>(i));
      made = StatusOfCode(result.code(), result.message());
    }
    if (SettleCreate(*made_with[i], made) && !made.ok()) made_again.insert(made_with[i]->ino);
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
    if (!outcome.ok() && made_again.count(item.ino) != 0) {
      v1::FsStat stat;
      outcome = link_->Call("Commit", &Fs::Stub::Commit, item.request, &stat);
      if (outcome.ok()) FinishCommit(*item.state, stat);
    }
    SettleQueued(item.ino, *item.state, outcome);
  }
}

void FileSystem::Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  auto state = Get(ino);
  bool queue = false;
  {
    std::lock_guard lock(state->mu);
    if (state->overlay && !state->overlay->dirty() && !state->orphan &&
        state->write_back_error.ok()) {
      // Nothing written yet, and a flush is a close that may leave the file open (a shell's
      // `>` dups the new file's descriptor and closes the first): the empty write buffer
      // stays for the writes to come, which would otherwise ask the kernel for the file's
      // state again. The last close's Release drops it.
      fuse_reply_err(req, 0);
      return;
    }
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

int FileSystem::CommitAll() {
  // Queued commits, creates and unlinks are sent first; what commits could not save is tried
  // once more below.
  if (write_back_) write_back_->Stop();
  SendPendingCreates();
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

}  // namespace lattice::fuse
