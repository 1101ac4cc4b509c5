// Conversions between the Fs service's messages and what the FUSE low-level API wants.
#pragma once

#include <sys/stat.h>

#include <ctime>

#include "lattice/v1/fs_service.pb.h"

namespace lattice::fuse {

// The wall clock, as the kernel stamps file times.
timespec WallNow();

timespec ToTimespec(const v1::FsTime& time);
v1::FsTime ToFsTime(const timespec& time);

bool SameTime(const v1::FsTime& a, const v1::FsTime& b);
// Sets `*time` to `stamp` when `stamp` is later: a directory's times follow the latest of
// the changes answered to this daemon, which may come back out of order.
void KeepLatest(v1::FsTime* time, const v1::FsTime& stamp);

// struct stat of an inode as the kernel reported it.
struct stat ToStat(const v1::FsStat& stat);

// Whether a name (bytes, as the FUSE kernel passes them) can be one entry of a directory:
// 0, or ENAMETOOLONG / EINVAL.
int CheckName(const char* name);

}  // namespace lattice::fuse
