// Tuning of lattice-fuse's FileSystem, shared by its files (filesystem*.cc).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "lattice/common/fs_limits.h"
#include "lattice/v1/fs_service.pb.h"

namespace lattice::fuse {

inline constexpr v1::Durability kApplied = v1::DURABILITY_APPLIED;
// New content up to this size goes along with its commit (within kMaxFsPutChunksBytes).
inline constexpr size_t kSendAlongBytes = 1024 * 1024;

// A closed file of at most this size has its commit queued (write_back.h); a larger one is
// committed at close, its upload being most of the cost anyway. At most kWriteBackQueued
// commits wait, so what they hold stays within about 64 MiB.
inline constexpr uint64_t kWriteBackMaxBytes = 256 * 1024;
inline constexpr size_t kWriteBackQueued = 256;
// The most commits one Fs.CommitMany takes: they are the ops of one intention (a commit
// with attributes is two, which the batching counts too).
inline constexpr size_t kCommitsPerCall = limits::kMaxFsOpsPerIntention;
// How long a closed file's commit waits for others to share its CommitMany (write_back.h):
// about ten files' worth of creating, at the pace one mount creates them.
inline constexpr std::chrono::milliseconds kWriteBackLinger{20};
// Unlinks answered here (removals.h): as many to a call as a RemoveMany takes, on two
// threads so that one batch is built while the other is sent; at most kRemovalsQueued wait.
inline constexpr size_t kRemovalsPerCall = 32;
inline constexpr int kRemovalThreads = 2;
inline constexpr size_t kRemovalsQueued = 1024;
// Creates answered here (creates.h): a CommitMany carries as many as fit an intention's ops
// (limits::FsCreateOps each); past kCreatesWaiting answered and not sent, the next create
// sends them all first.
inline constexpr size_t kCreatesWaiting = 1024;
// A directory of at most this many names known here is listed here (KnownNames::ListAfter):
// each READDIR sorts them, so a larger one is read from the kernel a page at a time.
inline constexpr size_t kMaxNamesListedHere = 2048;
// The names whose inodes are held for the unlinks answered here (entry_inodes.h): about
// 60 bytes each.
inline constexpr size_t kEntryInodesHeld = 200'000;

// Read-ahead of committed content (ReadCommitted): from 256 KiB, doubling while a reader stays
// sequential, to the most one Fs.Read returns.
inline constexpr uint32_t kReadAheadMinBytes = 256 * 1024;
inline constexpr uint32_t kReadAheadMaxBytes = limits::kMaxFsReadBytes;

// Content of small files just committed here, kept for reading back (kept_content.h).
inline constexpr size_t kKeptContentBytes = 64 * 1024 * 1024;
inline constexpr size_t kKeptContentFileBytes = 256 * 1024;

// A file written from its start is cut and uploaded in rounds of about this much while it is
// written (Overlay::ClaimStream): one round is cut while up to two upload.
inline constexpr uint64_t kStreamRoundBytes = 8 * 1024 * 1024;

}  // namespace lattice::fuse
