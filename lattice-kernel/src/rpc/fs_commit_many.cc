#include "rpc/fs_commit_many.h"

#include <fmt/format.h>

#include <set>

#include "lattice/common/fs_limits.h"
#include "rpc/fs_content.h"

namespace lattice::kernel {

absl::Status CheckFsCommitMany(const v1::FsCommitManyRequest& request) {
  const auto& commits = request.commits();
  if (commits.empty()) return absl::InvalidArgumentError("a CommitMany needs at least one commit");
  if (static_cast<size_t>(commits.size()) > kMaxFsCommitsPerCall) {
    return absl::ResourceExhaustedError(
        fmt::format("a CommitMany holds at most {} commits; this one has {}",
                    kMaxFsCommitsPerCall, commits.size()));
  }
  std::set<uint64_t> inodes;
  size_t bytes = 0;
  size_t extents = 0;
  for (int i = 0; i < commits.size(); ++i) {
    const v1::FsCommitRequest& commit = commits[i];
    if (!commit.store().empty() && commit.store() != request.store()) {
      return absl::InvalidArgumentError(fmt::format(
          "commit {} names store \"{}\"; a CommitMany writes to its own store \"{}\" only", i,
          commit.store(), request.store()));
    }
    if (!inodes.insert(commit.ino()).second) {
      return absl::InvalidArgumentError(fmt::format(
          "commit {} is the second of inode {}: a CommitMany commits each inode once", i,
          commit.ino()));
    }
    for (const auto& chunk : commit.chunks()) bytes += chunk.data().size();
    extents += static_cast<size_t>(commit.extents_size());
  }
  if (bytes > limits::kMaxFsPutChunksBytes) {
    return absl::ResourceExhaustedError(
        fmt::format("a CommitMany carries at most {} bytes of chunks; this one has {}",
                    limits::kMaxFsPutChunksBytes, bytes));
  }
  // Every version lists its extents in the one intention, which holds what one large
  // version's extents need.
  if (extents > limits::kMaxFsExtentsPerVersion) {
    return absl::ResourceExhaustedError(
        fmt::format("a CommitMany lists at most {} extents in all; this one has {}",
                    limits::kMaxFsExtentsPerVersion, extents));
  }
  return absl::OkStatus();
}

std::vector<absl::Status> FsPrepareCommits(ChunkStore& chunks,
                                           const v1::FsCommitManyRequest& request) {
  std::vector<absl::Status> outcomes;
  outcomes.reserve(static_cast<size_t>(request.commits_size()));
  for (const v1::FsCommitRequest& commit : request.commits()) {
    absl::Status status = CheckFsExtents(commit.extents(), commit.size());
    if (status.ok() && commit.chunks_size() > 0) {
      status = FsStoreChunks(chunks, commit.chunks()).status();
    }
    if (status.ok()) status = FsCheckChunksPresent(chunks, commit.extents());
    outcomes.push_back(std::move(status));
  }
  return outcomes;
}

FsPlan PlanFsCommitMany(FsPlanner& planner, const v1::FsCommitManyRequest& request,
                        std::vector<absl::Status>& outcomes) {
  FsPlan plan;
  for (int i = 0; i < request.commits_size(); ++i) {
    absl::Status& outcome = outcomes[static_cast<size_t>(i)];
    if (!outcome.ok()) continue;
    auto one = planner.Commit(request.commits(i));
    if (!one.ok()) {
      outcome = one.status();
      continue;
    }
    // A commit with attributes is two ops: those past the intention's ops are sent again.
    if (static_cast<size_t>(plan.payload.ops_size() + one->payload.ops_size()) >
        limits::kMaxFsOpsPerIntention) {
      outcome = absl::ResourceExhaustedError(
          fmt::format("commit {} does not fit in this call's intention of at most {} ops; "
                      "send it again",
                      i, limits::kMaxFsOpsPerIntention));
      continue;
    }
    for (auto& op : *one->payload.mutable_ops()) *plan.payload.add_ops() = std::move(op);
  }
  plan.no_change = plan.payload.ops_size() == 0;
  return plan;
}

}  // namespace lattice::kernel
