// FileSystem: file content (open, read with read-ahead, write into the overlay, the streaming rounds that cut and upload a file while it is written, fallocate).
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
#include "src/filesystem_tuning.h"

namespace lattice::fuse {

using v1::Fs;

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
    auto stat = FetchLast(ino, state);
    if (!stat.ok()) return stat.status();
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
  std::optional<uint64_t> stored_at;  // the epoch at which the content was stored here
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
    } else if (HeldAttrsCurrent(*state)) {
      // Close-to-open without a call: nothing was applied that this daemon has not heard.
      std::string version = Shown(*state, state->last).version();
      keep = !version.empty() && version == state->cached_version;
      state->cached_version = std::move(version);
      spdlog::trace("open {}: version held here", ino);
    } else {
      auto stat = FetchLast(ino, *state);
      if (!stat.ok()) {
        ReplyError(req, stat.status());
        return;
      }
      keep = !stat->version().empty() && stat->version() == state->cached_version;
      state->cached_version = stat->version();
    }
    fi->keep_cache = keep ? 1 : 0;
    bool alone = false;
    {
      // Counted while mu is held: no descriptor StoreKept does not see can exist.
      std::lock_guard table(mu_);
      alone = state->open == 0;
      state->open++;
    }
    if (keep && alone) stored_at = StoreKept(ino, *state);
  }
  // A change from elsewhere heard while the content was stored may have dropped the page
  // cache before the store filled it: dropped again.
  if (stored_at && state->epoch.load() != *stored_at) {
    fuse_lowlevel_notify_inval_inode(session_, ino, 0, 0);
  }
  // A descriptor that cannot write has nothing to save at its close (the writes of others
  // are saved at their own): its close waits for no FLUSH.
  if ((fi->flags & O_ACCMODE) == O_RDONLY) fi->noflush = 1;
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

std::optional<uint64_t> FileSystem::StoreKept(uint64_t ino, InodeState& state) {
  if (session_ == nullptr || state.overlay || state.orphan || state.cached_version.empty() ||
      state.stored_version == state.cached_version) {
    return std::nullopt;
  }
  auto kept = kept_content_.Find(ino, state.cached_version);
  if (!kept || kept->size() != Shown(state, state.last).size()) return std::nullopt;
  fuse_bufvec content{};  // FUSE_BUFVEC_INIT, which is a C compound literal
  content.count = 1;
  content.buf[0].size = kept->size();
  content.buf[0].mem = const_cast<char*>(kept->data());
  content.buf[0].fd = -1;
  const int err = fuse_lowlevel_notify_store(session_, ino, 0, &content, FUSE_BUF_NO_SPLICE);
  if (err != 0) {
    spdlog::debug("inode {}: content not stored in the page cache: {}", ino, strerror(-err));
    return std::nullopt;
  }
  state.stored_version = state.cached_version;
  return state.seen_epoch;
}

bool FileSystem::HeldAttrsCurrent(const InodeState& state) const {
  const Watcher* watcher = watcher_.load();
  // The watch first: it stores its cursor after the changes it handed on bumped their
  // inodes' epochs, which HeldUnmoved then sees.
  return watcher != nullptr && watcher->HeardAll() && HeldUnmoved(state);
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
  if (!covered && !version.empty()) {
    // A version this daemon committed and still keeps: all of it, at once.
    if (auto kept = kept_content_.Find(ino, version)) {
      ahead = ReadAhead{};
      ahead.version = version;
      ahead.epoch = epoch;
      ahead.data = *kept;
      ahead.eof = true;
      usable = true;
      covered = covers();
    }
  }
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

}  // namespace lattice::fuse
