#include "src/overlay.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "src/content.h"

namespace lattice::fuse {
namespace {

absl::Status Errno(int err, std::string_view what) {
  return FsError(err, std::string(what) + ": " + std::strerror(err));
}

constexpr uint64_t kIoBlock = 4 * 1024 * 1024;

std::atomic<uint64_t> next_serial{1};

}  // namespace

uint64_t CutFinalChunks(std::string_view data, uint64_t begin, bool to_end, BuiltContent* out) {
  std::set<std::string> seen;
  for (const NewChunk& chunk : out->chunks) seen.insert(chunk.hash);
  uint64_t used = 0;
  while (used < data.size()) {
    std::string_view rest = data.substr(used);
    if (!to_end && rest.size() < limits::kFsChunkMaxBytes) break;  // its cut may still move
    size_t cut = NextCut(rest);
    if (cut == 0) cut = rest.size();
    std::string_view chunk = rest.substr(0, cut);
    if (AllZero(chunk)) {
      if (!out->extents.empty() && out->extents.back().hash.empty()) {
        out->extents.back().length += cut;
      } else {
        out->extents.push_back(Extent{"", cut});
      }
    } else {
      std::string hash = HashChunk(chunk);
      if (seen.insert(hash).second) out->chunks.push_back(NewChunk{hash, begin + used, cut});
      out->extents.push_back(Extent{std::move(hash), cut});
    }
    used += cut;
  }
  return used;
}

std::vector<PlanItem> PlanCommit(const std::vector<Extent>& base, uint64_t base_valid,
                                 uint64_t size, const IntervalSet& dirty) {
  std::vector<PlanItem> plan;
  auto cut = [&plan](uint64_t begin, uint64_t end) {
    if (begin >= end) return;
    if (!plan.empty() && !plan.back().keep && plan.back().end == begin) {
      plan.back().end = end;
      return;
    }
    PlanItem item;
    item.begin = begin;
    item.end = end;
    plan.push_back(std::move(item));
  };
  uint64_t limit = std::min(base_valid, size);
  uint64_t pos = 0;
  uint64_t covered = 0;  // the new content planned so far
  for (const Extent& extent : base) {
    if (pos >= limit) break;
    uint64_t end = pos + extent.length;
    if (end <= limit && !dirty.Intersects(pos, end)) {
      PlanItem item;
      item.keep = true;
      item.extent = extent;
      plan.push_back(std::move(item));
      covered = end;
    } else {
      cut(pos, std::min(end, size));
      covered = std::min(end, size);
    }
    pos = end;
  }
  // Past the base: zeros and written bytes.
  cut(covered, size);
  return plan;
}

absl::StatusOr<std::unique_ptr<Overlay>> Overlay::Create(std::string base_version,
                                                         uint64_t base_size) {
  int fd = ::memfd_create("lattice-fuse", MFD_CLOEXEC);
  if (fd < 0) return Errno(errno, "memfd_create");
  if (::ftruncate(fd, static_cast<off_t>(base_size)) != 0) {
    int err = errno;
    ::close(fd);
    return Errno(err, "ftruncate of the write buffer");
  }
  return std::unique_ptr<Overlay>(new Overlay(fd, std::move(base_version), base_size));
}

Overlay::Overlay(int fd, std::string base_version, uint64_t base_size)
    : fd_(fd), base_version_(std::move(base_version)), base_valid_(base_size),
      size_(base_size), serial_(next_serial++) {
  ::clock_gettime(CLOCK_REALTIME, &mtime_);
}

Overlay::~Overlay() { ::close(fd_); }

void Overlay::Touch() {
  dirty_flag_ = true;
  ::clock_gettime(CLOCK_REALTIME, &mtime_);
}

absl::Status Overlay::Write(uint64_t offset, std::string_view data) {
  if (data.empty()) return absl::OkStatus();
  if (offset + data.size() > limits::kMaxFsFileBytes) {
    return FsError(EFBIG, "a file holds at most 1 TiB");
  }
  BreakStreamBelow(offset);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno == ENOSPC ? ENOSPC : errno, "writing the write buffer");
    }
    done += static_cast<size_t>(n);
  }
  dirty_.Add(offset, offset + data.size());
  local_.Add(offset, std::min(offset + data.size(), base_valid_));
  size_ = std::max(size_, offset + data.size());
  Touch();
  return absl::OkStatus();
}

absl::Status Overlay::EnsureLocal(uint64_t offset, uint64_t length, const FetchBase& fetch) {
  uint64_t end = std::min(offset + length, base_valid_);
  if (offset >= end) return absl::OkStatus();
  for (auto [begin, gap_end] : local_.Gaps(offset, end)) {
    uint64_t pos = begin;
    while (pos < gap_end) {
      uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(gap_end - pos, kIoBlock));
      auto data = fetch(pos, want);
      if (!data.ok()) return data.status();
      std::string bytes = std::move(*data);
      // A base shorter than it claimed reads as zeros past its end.
      if (bytes.size() < want) bytes.resize(want, '\0');
      size_t done = 0;
      while (done < bytes.size()) {
        ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                             static_cast<off_t>(pos + done));
        if (n < 0) {
          if (errno == EINTR) continue;
          return Errno(errno, "filling the write buffer");
        }
        done += static_cast<size_t>(n);
      }
      local_.Add(pos, pos + want);
      pos += want;
    }
  }
  return absl::OkStatus();
}

bool Overlay::HoldsAll() const {
  return base_valid_ == 0 || local_.Gaps(0, base_valid_).empty();
}

absl::StatusOr<std::string> Overlay::ReadLocal(uint64_t offset, uint64_t length) const {
  std::string out(length, '\0');
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, "reading the write buffer");
    }
    if (n == 0) break;  // past the memfd's end: zeros
    done += static_cast<size_t>(n);
  }
  return out;
}

absl::StatusOr<std::string> Overlay::Read(uint64_t offset, uint64_t length,
                                          const FetchBase& fetch) {
  if (offset >= size_) return std::string();
  length = std::min(length, size_ - offset);
  if (absl::Status local = EnsureLocal(offset, length, fetch); !local.ok()) return local;
  return ReadLocal(offset, length);
}

absl::Status Overlay::Truncate(uint64_t size) {
  if (size > limits::kMaxFsFileBytes) return FsError(EFBIG, "a file holds at most 1 TiB");
  BreakStreamBelow(size);
  if (size == 0) {
    // Written from the start again: a new stream.
    stream_broken_ = false;
    streamed_ = claimed_end_ = 0;
    streamed_extents_.clear();
  }
  if (size < size_) {
    // Drop the bytes past the new end, so growing again shows zeros.
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno(errno, "truncating");
    dirty_.ClipTo(size);
    local_.ClipTo(size);
    base_valid_ = std::min(base_valid_, size);
  }
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno(errno, "truncating");
  if (size != size_) {
    size_ = size;
    Touch();
  }
  return absl::OkStatus();
}

absl::Status Overlay::Zero(uint64_t offset, uint64_t length) {
  if (offset >= size_) return absl::OkStatus();
  BreakStreamBelow(offset);
  length = std::min(length, size_ - offset);
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
    return Errno(errno, "punching the write buffer");
  }
  dirty_.Add(offset, offset + length);
  local_.Add(offset, std::min(offset + length, base_valid_));
  Touch();
  return absl::OkStatus();
}

absl::StatusOr<BuiltContent> Overlay::Build(const std::vector<Extent>& base,
                                            const FetchBase& fetch) {
  BuiltContent built;
  std::set<std::string> seen;
  auto add_hole = [&built](uint64_t length) {
    if (!built.extents.empty() && built.extents.back().hash.empty()) {
      built.extents.back().length += length;
    } else {
      built.extents.push_back(Extent{"", length});
    }
  };
  std::vector<PlanItem> plan;
  if (base_valid_ == 0 && !stream_broken_ && streamed_ > 0 && streamed_ <= size_) {
    // The rounds cut [0, streamed_) already (and uploaded its chunks): only the rest is cut.
    built.extents = streamed_extents_;
    PlanItem rest;
    rest.begin = streamed_;
    rest.end = size_;
    if (rest.begin < rest.end) plan.push_back(rest);
  } else {
    plan = PlanCommit(base, base_valid_, size_, dirty_);
  }
  for (const PlanItem& item : plan) {
    if (item.keep) {
      if (item.extent.hash.empty()) {
        add_hole(item.extent.length);
      } else {
        built.extents.push_back(item.extent);
      }
      continue;
    }
    if (absl::Status local = EnsureLocal(item.begin, item.end - item.begin, fetch);
        !local.ok()) {
      return local;
    }
    // Cut [begin, end) in windows of a few MiB, carrying the uncut tail over: `window`
    // holds the bytes from window_start on, from `used` on (consumed bytes are dropped
    // only when more are read, so each byte is moved at most once).
    uint64_t pos = item.begin;
    std::string window;
    size_t used = 0;
    uint64_t window_start = pos;
    uint64_t read_pos = pos;
    while (window_start < item.end) {
      if (window.size() - used < limits::kFsChunkMaxBytes && read_pos < item.end) {
        window.erase(0, used);
        used = 0;
        uint64_t n = std::min<uint64_t>(kIoBlock, item.end - read_pos);
        size_t had = window.size();
        window.resize(had + n);
        size_t got = 0;
        while (got < n) {
          ssize_t r = ::pread(fd_, window.data() + had + got, n - got,
                              static_cast<off_t>(read_pos + got));
          if (r < 0) {
            if (errno == EINTR) continue;
            return Errno(errno, "reading the write buffer");
          }
          if (r == 0) {
            std::memset(window.data() + had + got, 0, n - got);  // past the memfd: zeros
            break;
          }
          got += static_cast<size_t>(r);
        }
        read_pos += n;
        continue;
      }
      std::string_view rest = std::string_view(window).substr(used);
      size_t cut = NextCut(rest);
      if (cut == 0) cut = rest.size();
      std::string_view chunk = rest.substr(0, cut);
      if (AllZero(chunk)) {
        add_hole(cut);
      } else {
        std::string hash = HashChunk(chunk);
        if (seen.insert(hash).second) built.chunks.push_back(NewChunk{hash, window_start, cut});
        built.extents.push_back(Extent{std::move(hash), cut});
      }
      used += cut;
      window_start += cut;
    }
  }
  if (built.extents.size() > limits::kMaxFsExtentsPerVersion) {
    return FsError(EFBIG, "the file has more extents than one version can hold");
  }
  return built;
}

void Overlay::BreakStreamBelow(uint64_t offset) {
  if (offset < std::max(streamed_, claimed_end_)) BreakStream();
}

void Overlay::BreakStream() {
  if (stream_broken_) return;
  stream_broken_ = true;
  stream_epoch_++;
  streamed_extents_.clear();
  streamed_extents_.shrink_to_fit();
}

bool Overlay::StreamWanted(uint64_t min_bytes) const {
  return base_valid_ == 0 && !stream_broken_ && !stream_running_ &&
         uploads_running_ < kMaxStreamUploads &&
         size_ >= streamed_ + min_bytes + limits::kFsChunkMaxBytes;
}

std::optional<StreamClaim> Overlay::ClaimStream(uint64_t max_bytes) {
  if (base_valid_ != 0 || stream_broken_ || stream_running_ ||
      uploads_running_ >= kMaxStreamUploads || size_ < streamed_ + limits::kFsChunkMaxBytes) {
    return std::nullopt;
  }
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  StreamClaim claim;
  claim.serial = serial_;
  claim.epoch = stream_epoch_;
  claim.begin = streamed_;
  claim.end = std::min(size_, streamed_ + max_bytes);
  claim.fd = fd;
  stream_running_ = true;
  claimed_end_ = claim.end;
  return claim;
}

bool Overlay::FinishCut(const StreamClaim& claim, std::vector<Extent> extents,
                        uint64_t covered) {
  if (claim.serial != serial_) return false;
  stream_running_ = false;
  claimed_end_ = streamed_;
  if (claim.epoch != stream_epoch_ || stream_broken_) return false;
  for (Extent& extent : extents) {
    if (extent.hash.empty() && !streamed_extents_.empty() &&
        streamed_extents_.back().hash.empty()) {
      streamed_extents_.back().length += extent.length;
    } else {
      streamed_extents_.push_back(std::move(extent));
    }
  }
  streamed_ = claim.begin + covered;
  claimed_end_ = streamed_;
  uploads_running_++;
  return true;
}

void Overlay::FinishUpload(const StreamClaim& claim, bool uploaded) {
  if (claim.serial != serial_) return;
  uploads_running_--;
  // The commit cuts and uploads everything itself.
  if (!uploaded && claim.epoch == stream_epoch_) BreakStream();
}

}  // namespace lattice::fuse
