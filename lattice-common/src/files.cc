#include "lattice/common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace lattice {

absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string message = fmt::format("{}: {}", what, std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

namespace {

// Reads from `fd` until end of file or until more than `max_bytes` arrived.
absl::StatusOr<std::string> ReadUpTo(int fd, const std::string& path, size_t max_bytes) {
  std::string out;
  char buffer[8192];
  while (out.size() <= max_bytes) {
    size_t want = std::min(sizeof buffer, max_bytes + 1 - out.size());
    ssize_t n = ::read(fd, buffer, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read " + path);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open " + path);
  auto out = ReadUpTo(fd, path, std::string().max_size() - 1);
  ::close(fd);
  return out;
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes,
                                            Symlinks symlinks) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  if (symlinks == Symlinks::kRefuse) flags |= O_NOFOLLOW;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    if (errno == ELOOP && symlinks == Symlinks::kRefuse) {
      return absl::FailedPreconditionError(fmt::format("{} is a symbolic link; it must be a regular file", path));
    }
    return ErrnoStatus(errno, "open " + path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "stat " + path);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return ErrnoStatus(EISDIR, "read " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(fmt::format("{} is not a regular file", path));
  }
  auto out = ReadUpTo(fd, path, max_bytes);
  ::close(fd);
  if (out.ok() && out->size() > max_bytes) {
    return absl::ResourceExhaustedError(
        fmt::format("{} is larger than the limit of {} bytes", path, max_bytes));
  }
  return out;
}

absl::Status CheckPrivateDirectory(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat " + what + " " + path);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(fmt::format("{} {} is not a directory", what, path));
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return absl::FailedPreconditionError(fmt::format(
        "{} {} belongs to uid {}, not to this process's user (uid {}); another user could "
        "replace what is in it: use a directory of your own",
        what, path, st.st_uid, ::geteuid()));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(fmt::format(
        "{} {} has mode {:o}: others may write into it and plant or swap files there; use a "
        "directory only its owner can write (chmod go-w {}), or another path",
        what, path, st.st_mode & 07777, path));
  }
  return absl::OkStatus();
}

absl::Status MakePrivateDirectory(const std::string& path, mode_t mode,
                                  const std::string& what) {
  if (auto s = MakeDirsDurable(path, mode); !s.ok()) return s;
  return CheckPrivateDirectory(path, what);
}

absl::Status FsyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory " + path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync directory " + path);
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, const std::string& contents, mode_t mode) {
  std::filesystem::path target(path);
  std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  std::string tmp = (std::filesystem::path(dir) / ("." + target.filename().string() + ".XXXXXX")).string();
  // mkostemp creates with O_EXCL and a random name: nothing planted at a guessable name is
  // opened, and a symbolic link in its place makes it fail instead of being followed.
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "create a temporary file in " + dir);
  auto fail = [&](int err, const std::string& what) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, what + " " + tmp);
  };
  if (::fchmod(fd, mode) != 0) return fail(errno, "chmod");
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno, "fsync");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, "rename " + tmp);
  }
  return FsyncDir(dir);
}

absl::Status MakeDirsDurable(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::path target = std::filesystem::absolute(path.empty() ? "." : path, ec);
  if (ec) return ErrnoStatus(ec.value(), "resolve directory " + path);
  std::filesystem::path current;
  for (const auto& part : target) {
    std::filesystem::path parent = current;
    current /= part;
    if (parent.empty()) continue;
    if (::mkdir(current.c_str(), mode) == 0) {
      if (auto s = FsyncDir(parent.string()); !s.ok()) return s;
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "create directory " + current.string());
    }
  }
  return absl::OkStatus();
}

}  // namespace lattice
