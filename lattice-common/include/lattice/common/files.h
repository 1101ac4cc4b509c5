// File helpers with the durability the kernel promises: written data and the directory
// entries that name it are fsynced before a function reports success.
#pragma once

#include <string>
#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice {

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to a temporary file with `mode`, fsyncs it, renames it over `path` and
// fsyncs the directory.
absl::Status WriteFileAtomic(const std::string& path, const std::string& contents, mode_t mode);

// Creates `path` and any missing parents with `mode`, fsyncing each parent whose entries
// changed.
absl::Status MakeDirsDurable(const std::string& path, mode_t mode = 0700);

absl::Status FsyncDir(const std::string& path);

// ENOSPC and EDQUOT become RESOURCE_EXHAUSTED; other errno values INTERNAL.
absl::Status ErrnoStatus(int err, const std::string& what);

}  // namespace lattice
