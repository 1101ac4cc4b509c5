#include "rpc/fs_remove_many.h"

#include <fmt/format.h>

#include <set>
#include <string>
#include <utility>

namespace lattice::kernel {

absl::Status CheckFsRemoveMany(const v1::FsRemoveManyRequest& request) {
  const auto& removals = request.removals();
  if (removals.empty()) return absl::InvalidArgumentError("a RemoveMany needs at least one removal");
  if (static_cast<size_t>(removals.size()) > kMaxFsRemovesPerCall) {
    return absl::ResourceExhaustedError(
        fmt::format("a RemoveMany holds at most {} removals; this one has {}",
                    kMaxFsRemovesPerCall, removals.size()));
  }
  std::set<std::pair<uint64_t, std::string>> names;
  for (int i = 0; i < removals.size(); ++i) {
    const v1::FsRemoveRequest& removal = removals[i];
    if (!removal.store().empty() && removal.store() != request.store()) {
      return absl::InvalidArgumentError(fmt::format(
          "removal {} names store \"{}\"; a RemoveMany removes from its own store \"{}\" only",
          i, removal.store(), request.store()));
    }
    if (removal.dir()) {
      return absl::InvalidArgumentError(fmt::format(
          "removal {} is of a directory: a RemoveMany removes names of non-directories; "
          "remove a directory with Remove",
          i));
    }
    if (!names.emplace(removal.parent(), removal.name()).second) {
      return absl::InvalidArgumentError(fmt::format(
          "removal {} is the second of its name in directory {}: a RemoveMany removes each "
          "name once",
          i, removal.parent()));
    }
  }
  return absl::OkStatus();
}

FsPlan PlanFsRemoveMany(FsPlanner& planner, const v1::FsRemoveManyRequest& request,
                        std::vector<absl::Status>& outcomes) {
  outcomes.assign(static_cast<size_t>(request.removals_size()), absl::OkStatus());
  FsPlan plan;
  // Attribute ops already in the payload: removals in one directory all touch it with the
  // planner's one `now`, and one such op says it for all of them.
  std::set<std::string> attr_ops;
  for (int i = 0; i < request.removals_size(); ++i) {
    absl::Status& outcome = outcomes[static_cast<size_t>(i)];
    auto one = planner.Remove(request.removals(i));
    if (!one.ok()) {
      outcome = one.status();
      continue;
    }
    std::vector<v1::FsOp*> fresh;
    std::set<std::string> fresh_attrs;
    for (auto& op : *one->payload.mutable_ops()) {
      if (op.has_set_attr()) {
        std::string key = op.SerializeAsString();
        if (attr_ops.count(key) > 0 || !fresh_attrs.insert(std::move(key)).second) continue;
      }
      fresh.push_back(&op);
    }
    if (static_cast<size_t>(plan.payload.ops_size()) + fresh.size() >
        limits::kMaxFsOpsPerIntention) {
      outcome = absl::ResourceExhaustedError(fmt::format(
          "removal {} did not fit this call's intention of at most {} ops; send it again", i,
          limits::kMaxFsOpsPerIntention));
      continue;
    }
    attr_ops.merge(fresh_attrs);
    for (v1::FsOp* op : fresh) *plan.payload.add_ops() = std::move(*op);
    if (one->stamped) plan.stamped = one->stamped;  // the planner's one `now` for them all
  }
  plan.no_change = plan.payload.ops_size() == 0;
  return plan;
}

}  // namespace lattice::kernel
