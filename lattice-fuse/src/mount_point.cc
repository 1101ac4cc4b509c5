#include "src/mount_point.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace lattice::fuse {
namespace {

// fusermount3 -u -z, for a user who may not call umount2 themselves.
bool FusermountLazy(const std::string& path) {
  pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    ::execlp("fusermount3", "fusermount3", "-u", "-z", "--", path.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

absl::Status PrepareMountPoint(const std::string& path) {
  struct stat info {};
  struct statfs usage {};
  // statfs first: a dead FUSE mount can still answer stat from the attribute cache, while
  // statfs always asks its daemon, so it says ENOTCONN as soon as the daemon is gone.
  if (::statfs(path.c_str(), &usage) != 0 || ::stat(path.c_str(), &info) != 0) {
    int err = errno;
    if (err != ENOTCONN) {
      return absl::FailedPreconditionError(
          fmt::format("cannot use {} as the mount point: {}", path, std::strerror(err)));
    }
    spdlog::warn("{} is a stale mount (its daemon is gone): detaching it to take over", path);
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && !FusermountLazy(path)) {
      return absl::FailedPreconditionError(fmt::format(
          "{} is a stale mount and could not be detached: {}", path, std::strerror(errno)));
    }
    if (::stat(path.c_str(), &info) != 0) {
      return absl::FailedPreconditionError(fmt::format(
          "{} is still unusable after detaching the stale mount: {}", path,
          std::strerror(errno)));
    }
  }
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(fmt::format("{} is not a directory", path));
  }
  return absl::OkStatus();
}

}  // namespace lattice::fuse
