// Every size and count of the shared drive (fs stores, the Fs service, lattice-fuse) that comes
// from outside, named in one place beside limits.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lattice/common/limits.h"

namespace lattice::limits {

// Names and paths as Linux bounds them (NAME_MAX, PATH_MAX).
inline constexpr size_t kMaxFsNameBytes = 255;
inline constexpr size_t kMaxFsPathBytes = 4096;
inline constexpr size_t kMaxFsSymlinkBytes = 4095;
inline constexpr size_t kMaxFsXattrNameBytes = 255;
inline constexpr size_t kMaxFsXattrValueBytes = 64 * 1024;
inline constexpr size_t kMaxFsXattrsPerInode = 128;

// Content-defined chunking (FastCDC): chunk sizes of one file's content.
inline constexpr size_t kFsChunkMinBytes = 16 * 1024;
inline constexpr size_t kFsChunkAvgBytes = 64 * 1024;
inline constexpr size_t kFsChunkMaxBytes = 256 * 1024;

// One Fs call: the chunks of a PutChunks, the hashes of a MissingChunks, the bytes of a Read,
// the entries of a ReadDir page, the ops of one fs intention.
inline constexpr size_t kMaxFsChunksPerCall = 64;
inline constexpr size_t kMaxFsPutChunksBytes = 8 * 1024 * 1024;
inline constexpr size_t kMaxFsHashesPerCall = 4096;
inline constexpr uint32_t kMaxFsReadBytes = 4 * 1024 * 1024;
inline constexpr uint32_t kMaxFsReadDirEntries = 4096;
inline constexpr size_t kMaxFsOpsPerIntention = 64;
// The most ops of an intention one create takes (FsCreateRequest): its own and its
// directory's times, and, for one that replaces a file, that file's unlink and the ctime of
// its other links. Clients size their CommitMany calls by it; the kernel checks it.
inline constexpr size_t FsCreateOps(bool replaces) { return replaces ? 4 : 2; }
// A content version lists its extents in its intention, so one version holds at most this many
// (about 3.8 MB of payload): files up to about 6 GiB at the average chunk size, or larger when
// they are sparse.
inline constexpr size_t kMaxFsExtentsPerVersion = 100'000;
inline constexpr uint64_t kMaxFsFileBytes = 1ull << 40;
// A write in delta form (FsWrite.base) edits its base's extent list with at most this many
// splices; their new extents together count towards kMaxFsExtentsPerVersion.
inline constexpr size_t kMaxFsSplicesPerWrite = 4096;

// A move that arrives out of timestamp order undoes and redoes at most this many later moves
// in one step; the walk up the tree to refuse a cycle visits at most this many ancestors.
inline constexpr size_t kMaxFsTreeDepth = 4096;

// Writes acknowledged as applied but not yet synced are made durable within this time.
inline constexpr uint64_t kMaxUnsyncedMs = 1000;

}  // namespace lattice::limits
