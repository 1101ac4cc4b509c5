// Fs.CommitMany (fs_service.proto): many files' new content versions in one call and one
// intention, after the creates of files whose ids their client minted. The request is checked
// as a whole first (counts, bytes, distinct inodes, nonces); each commit is then prepared (its
// chunks stored and checked), and each create and commit planned on its own, so one that
// cannot be made fails alone; those that can be made become the ops of one payload, applied
// together or not at all.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/common/fs_limits.h"
#include "lattice/v1/fs_service.pb.h"
#include "rpc/fs_planner.h"
#include "storage/chunk_store.h"

namespace lattice::kernel {

// The creates and commits of one CommitMany are the ops of one intention, one each at least. The chunks they carry
// are within a PutChunks' bytes in all (and each commit's within a Commit's limits).
inline constexpr size_t kMaxFsCommitsPerCall = limits::kMaxFsOpsPerIntention;

// The rules of the request as a whole: INVALID_ARGUMENT (no commit nor create, an inode
// committed twice, a commit or create naming another store, a create without a nonce) or
// RESOURCE_EXHAUSTED (a limit of fs_limits.h).
absl::Status CheckFsCommitMany(const v1::FsCommitManyRequest& request);

// Per commit, in order: its extents checked, the chunks it carries stored (checked against
// their hashes) and every chunk it cites present. OK for a commit that may be planned.
std::vector<absl::Status> FsPrepareCommits(ChunkStore& chunks,
                                           const v1::FsCommitManyRequest& request);

// Plans every create as FsPlanner::Create would, its minted inode or its error going to
// `created`, then every commit whose `outcomes` entry is OK as FsPlanner::Commit would; a
// commit the planner refuses gets its error in `outcomes`. Their ops make one payload, where
// a directory's times set by several creates are set once. The plan changes nothing
// (no_change) when nothing could be planned.
FsPlan PlanFsCommitMany(FsPlanner& planner, const v1::FsCommitManyRequest& request,
                        std::vector<absl::Status>& outcomes,
                        std::vector<absl::StatusOr<uint64_t>>& created);

}  // namespace lattice::kernel
