// Fs.RemoveMany (fs_service.proto): many names of non-directories removed in one call and one
// intention, as lattice-fuse sends the unlinks it answered itself. The request is checked as a
// whole first (counts, distinct names, no directories); each removal is then planned on its
// own against the state before the call, so one that cannot be made fails alone; those that
// can be made become the ops of one payload, applied together or not at all.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "lattice/common/fs_limits.h"
#include "lattice/v1/fs_service.pb.h"
#include "rpc/fs_planner.h"

namespace lattice::kernel {

// A removal is a move of its entry to the trash and at most one touch of another inode's
// ctime; the touches of a parent shared by several removals are one op. So half an
// intention's ops always fit the moves, and most batches fit whole.
inline constexpr size_t kMaxFsRemovesPerCall = limits::kMaxFsOpsPerIntention / 2;

// The rules of the request as a whole: INVALID_ARGUMENT (no removals, a (parent, name) twice,
// a removal of a directory or naming another store) or RESOURCE_EXHAUSTED (too many).
absl::Status CheckFsRemoveMany(const v1::FsRemoveManyRequest& request);

// Plans every removal as FsPlanner::Remove would, into one payload; a removal the planner
// refuses, or whose ops would overflow the intention (RESOURCE_EXHAUSTED: send it again),
// gets its error in `outcomes` and no op. `outcomes` is resized to the removals. The plan
// changes nothing (no_change) when no removal could be planned.
FsPlan PlanFsRemoveMany(FsPlanner& planner, const v1::FsRemoveManyRequest& request,
                        std::vector<absl::Status>& outcomes);

}  // namespace lattice::kernel
