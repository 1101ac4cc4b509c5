// File helpers with the durability the kernel promises: written data and the directory
// entries that name it are fsynced before a function reports success.
#pragma once

#include <string>
#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice {

// Reads a whole file without bound: only for files the reader trusts (/proc, test logs).
absl::StatusOr<std::string> ReadFile(const std::string& path);

enum class Symlinks { kFollow, kRefuse };

// Reads a file that someone else may have placed or replaced: it must be a regular file (a
// FIFO, device or directory is FAILED_PRECONDITION and is opened without blocking), of at
// most `max_bytes` (RESOURCE_EXHAUSTED naming the limit; at most max_bytes + 1 bytes are
// read). With Symlinks::kRefuse a symbolic link as the last component is refused too.
absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes,
                                            Symlinks symlinks = Symlinks::kFollow);

// Writes `contents` to a new temporary file of unpredictable name beside `path` (created
// exclusively, so no file or link planted there is followed), with `mode`, fsyncs it,
// renames it over `path` and fsyncs the directory.
absl::Status WriteFileAtomic(const std::string& path, const std::string& contents, mode_t mode);

// Creates `path` and any missing parents with `mode`, fsyncing each parent whose entries
// changed.
absl::Status MakeDirsDurable(const std::string& path, mode_t mode = 0700);

absl::Status FsyncDir(const std::string& path);

// Refuses a directory that others could use to plant or swap files in it: it must be a
// directory owned by this process's user (or root), writable by neither group nor others,
// as ssh requires of ~/.ssh. FAILED_PRECONDITION naming the fix otherwise.
absl::Status CheckPrivateDirectory(const std::string& path, const std::string& what);

// MakeDirsDurable, then CheckPrivateDirectory: a directory made (or found) that only its
// owner can write.
absl::Status MakePrivateDirectory(const std::string& path, mode_t mode, const std::string& what);

// ENOSPC and EDQUOT become RESOURCE_EXHAUSTED; other errno values INTERNAL.
absl::Status ErrnoStatus(int err, const std::string& what);

}  // namespace lattice
