#include "rpc/fs_commit_many.h"

#include <fmt/format.h>

#include <set>
#include <string>

#include "lattice/common/fs_ids.h"
#include "lattice/common/fs_limits.h"
#include "rpc/fs_content.h"

namespace lattice::kernel {

absl::Status CheckFsCommitMany(const v1::FsCommitManyRequest& request) {
  const auto& commits = request.commits();
  const auto& creates = request.creates();
  if (commits.empty() && creates.empty()) {
    return absl::InvalidArgumentError("a CommitMany needs at least one commit or create");
  }
  if (static_cast<size_t>(commits.size() + creates.size()) > kMaxFsCommitsPerCall) {
    return absl::ResourceExhaustedError(
        fmt::format("a CommitMany holds at most {} commits and creates; this one has {}",
                    kMaxFsCommitsPerCall, commits.size() + creates.size()));
  }
  for (int i = 0; i < creates.size(); ++i) {
    const v1::FsCreateRequest& create = creates[i];
    if (!create.store().empty() && create.store() != request.store()) {
      return absl::InvalidArgumentError(fmt::format(
          "create {} names store \"{}\"; a CommitMany writes to its own store \"{}\" only", i,
          create.store(), request.store()));
    }
    if (create.nonce().size() != kFsNonceBytes) {
      return absl::InvalidArgumentError(fmt::format(
          "create {} has a nonce of {} bytes: a CommitMany's creates mint their ids from "
          "nonces of {} bytes",
          i, create.nonce().size(), kFsNonceBytes));
    }
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

namespace {


// Appends `one`'s ops to `plan` unless they would take it past an intention's ops; a
// set_attr op equal to one already in `plan` (a directory's times set by a second create) is
// left out.
absl::Status Append(FsPlan& plan, FsPlan& one, std::set<std::string>& set_attrs,
                    std::string_view what) {
  std::vector<v1::FsOp*> kept;
  std::vector<std::string> new_set_attrs;
  for (auto& op : *one.payload.mutable_ops()) {
    if (op.has_set_attr()) {
      std::string key = op.set_attr().SerializeAsString();
      if (set_attrs.count(key) != 0) continue;
      new_set_attrs.push_back(std::move(key));
    }
    kept.push_back(&op);
  }
  if (static_cast<size_t>(plan.payload.ops_size()) + kept.size() > limits::kMaxFsOpsPerIntention) {
    return absl::ResourceExhaustedError(
        fmt::format("{} does not fit in this call's intention of at most {} ops; send it again",
                    what, limits::kMaxFsOpsPerIntention));
  }
  for (v1::FsOp* op : kept) *plan.payload.add_ops() = std::move(*op);
  for (auto& key : new_set_attrs) set_attrs.insert(std::move(key));
  if (one.stamped) plan.stamped = one.stamped;
  return absl::OkStatus();
}

}  // namespace

FsPlan PlanFsCommitMany(FsPlanner& planner, const v1::FsCommitManyRequest& request,
                        std::vector<absl::Status>& outcomes,
                        std::vector<absl::StatusOr<uint64_t>>& created) {
  FsPlan plan;
  std::set<std::string> set_attrs;
  created.clear();
  for (int i = 0; i < request.creates_size(); ++i) {
    // Checked before planning: the planner counts a planned create as made, so the commits
    // after it may name its inode.
    if (static_cast<size_t>(plan.payload.ops_size()) + limits::FsCreateOps(request.creates(i).replaces() != 0) >
        limits::kMaxFsOpsPerIntention) {
      created.push_back(absl::ResourceExhaustedError(fmt::format(
          "create {} does not fit in this call's intention of at most {} ops; send it again", i,
          limits::kMaxFsOpsPerIntention)));
      continue;
    }
    auto one = planner.Create(request.creates(i));
    if (!one.ok()) {
      created.push_back(one.status());
      continue;
    }
    absl::Status fits = Append(plan, *one, set_attrs, fmt::format("create {}", i));
    if (fits.ok()) {
      created.push_back(one->inode);
    } else {
      created.push_back(fits);
    }
  }
  for (int i = 0; i < request.commits_size(); ++i) {
    absl::Status& outcome = outcomes[static_cast<size_t>(i)];
    if (!outcome.ok()) continue;
    auto one = planner.Commit(request.commits(i));
    if (!one.ok()) {
      outcome = one.status();
      continue;
    }
    // A commit with attributes is two ops: those past the intention's ops are sent again.
    outcome = Append(plan, *one, set_attrs, fmt::format("commit {}", i));
  }
  plan.no_change = plan.payload.ops_size() == 0;
  return plan;
}

}  // namespace lattice::kernel
