#include "src/attrs.h"

#include <cerrno>
#include <cstring>
#include <tuple>

#include "lattice/common/fs_limits.h"

namespace lattice::fuse {

timespec WallNow() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

timespec ToTimespec(const v1::FsTime& time) {
  timespec out{};
  out.tv_sec = static_cast<time_t>(time.sec());
  out.tv_nsec = static_cast<long>(time.nsec() < 1'000'000'000u ? time.nsec() : 0);
  return out;
}

v1::FsTime ToFsTime(const timespec& time) {
  v1::FsTime out;
  out.set_sec(time.tv_sec);
  out.set_nsec(static_cast<uint32_t>(time.tv_nsec));
  return out;
}

bool SameTime(const v1::FsTime& a, const v1::FsTime& b) {
  return a.sec() == b.sec() && a.nsec() == b.nsec();
}

void KeepLatest(v1::FsTime* time, const v1::FsTime& stamp) {
  if (std::make_tuple(stamp.sec(), stamp.nsec()) > std::make_tuple(time->sec(), time->nsec())) {
    *time = stamp;
  }
}

struct stat ToStat(const v1::FsStat& stat) {
  struct stat out {};
  out.st_ino = stat.ino();
  out.st_mode = stat.attr().mode();
  out.st_nlink = stat.nlink();
  out.st_uid = stat.attr().uid();
  out.st_gid = stat.attr().gid();
  out.st_rdev = static_cast<dev_t>(stat.attr().rdev());
  out.st_size = static_cast<off_t>(stat.size());
  out.st_blksize = 4096;
  out.st_blocks = static_cast<blkcnt_t>(stat.blocks());
  out.st_atim = ToTimespec(stat.attr().atime());
  out.st_mtim = ToTimespec(stat.attr().mtime());
  out.st_ctim = ToTimespec(stat.attr().ctime());
  return out;
}

int CheckName(const char* name) {
  size_t length = std::strlen(name);
  if (length > limits::kMaxFsNameBytes) return ENAMETOOLONG;
  if (length == 0) return ENOENT;
  return 0;
}

}  // namespace lattice::fuse
