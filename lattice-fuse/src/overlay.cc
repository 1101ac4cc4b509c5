#include "src/overlay.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
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

}  // namespace

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
      size_(base_size) {
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
  for (const PlanItem& item : PlanCommit(base, base_valid_, size_, dirty_)) {
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
    // Cut [begin, end) in windows of a few MiB, carrying the uncut tail over.
    uint64_t pos = item.begin;
    std::string window;
    uint64_t window_start = pos;
    uint64_t read_pos = pos;
    while (window_start < item.end) {
      if (window.size() < limits::kFsChunkMaxBytes && read_pos < item.end) {
        uint64_t n = std::min<uint64_t>(kIoBlock, item.end - read_pos);
        auto more = ReadLocal(read_pos, n);
        if (!more.ok()) return more.status();
        window += *more;
        read_pos += n;
        continue;
      }
      std::string_view rest(window);
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
      window.erase(0, cut);
      window_start += cut;
    }
  }
  if (built.extents.size() > limits::kMaxFsExtentsPerVersion) {
    return FsError(EFBIG, "the file has more extents than one version can hold");
  }
  return built;
}

}  // namespace lattice::fuse
