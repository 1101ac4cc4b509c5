// Node: status changes of members (admission, revocation, re-admission) written to a mesh's
// root store, and their enforcement: a change seen on the root queues the members whose
// standing may have moved, and the enforcer thread re-examines every store of the mesh for
// them, off the root's writer (DESIGN §7 Revocation).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "node/node.h"
#include "node/root_values.h"
#include "state/root_rules.h"

namespace lattice::kernel {
namespace {

constexpr std::string_view kNodesPrefix = "/nodes/";

std::string CutKey(std::string_view node_id, std::string_view store_id) {
  return fmt::format("/nodes/{}/cut/{}", ToHex(node_id), FormatStoreId(store_id));
}

}  // namespace

absl::Status Node::WriteStatusChange(const std::string& mesh_id, const std::string& node_id,
                                     std::string_view status, bool with_cuts) {
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return absl::NotFoundError("this node is in no such mesh");
  std::vector<KvWrite> writes;
  writes.push_back({StatusKey(node_id), std::string(status), false});
  if (with_cuts) {
    for (const auto& d : StoresOfMesh(mesh_id)) {
      Store* store = StoreById(d.id);
      if (store == nullptr) continue;
      // A cut read wrongly would void what the member wrote before: fail instead.
      auto tip = store->TipSeqOf(node_id);
      if (!tip.ok()) {
        return absl::Status(tip.status().code(),
                            fmt::format("reading what node {} wrote to store {} failed, so its "
                                        "status was not changed: {}",
                                        ShortHex(node_id), FormatStoreId(d.id),
                                        tip.status().message()));
      }
      writes.push_back({CutKey(node_id, d.id), FormatCut(*tip), false});
    }
  }
  if (writes.size() > limits::kMaxBatchOps) {
    return LimitExceeded("status change", writes.size(), limits::kMaxBatchOps, "stores");
  }
  return root->WriteKv(std::move(writes)).status();
}

absl::Status Node::AdmitMember(const std::string& mesh_id, const std::string& node_id) {
  if (auto member = Member(mesh_id, node_id); member && member->status == kMemberRevoked) {
    return absl::FailedPreconditionError(fmt::format(
        "{}; only an invite made with `lattice-ctl peer invite --readmit {}` admits it again",
        RevocationText(*member, mesh_id), ToHex(node_id).substr(0, 16)));
  }
  return WriteStatusChange(mesh_id, node_id, kMemberActive, /*with_cuts=*/false);
}

absl::Status Node::RevokeMember(const std::string& mesh_id, const std::string& node_id) {
  return WriteStatusChange(mesh_id, node_id, kMemberRevoked, /*with_cuts=*/true);
}

absl::Status Node::ReadmitMember(const std::string& mesh_id, const std::string& node_id) {
  return WriteStatusChange(mesh_id, node_id, kMemberActive, /*with_cuts=*/true);
}

void Node::OnRootApplied(const std::string& mesh_id, const std::vector<DecodedIntention>& applied) {
  // On the root's writer: find the members whose standing may have changed, nothing more.
  // One status change can change another member's standing (a revocation that voids the
  // revoked member's own revocation of someone else), so every member is looked at again.
  bool changed = false;
  ForEachKeyWritten(applied, [&](std::string_view key) {
    if (key.substr(0, kNodesPrefix.size()) != kNodesPrefix) return true;
    std::string_view rest = key.substr(kNodesPrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash + 1) != "status") return true;
    changed = true;
    if (auto id = ParseNodeId(rest.substr(0, slash))) QueueEnforcement(mesh_id, *id);
    return true;
  });
  if (changed) QueueEnforcement(mesh_id, "");
}

void Node::QueueEnforcement(const std::string& mesh_id, const std::string& node_id) {
  {
    std::lock_guard lock(enforce_mutex_);
    auto item = std::make_pair(mesh_id, node_id);
    if (std::find(enforce_queue_.begin(), enforce_queue_.end(), item) == enforce_queue_.end()) {
      enforce_queue_.push_back(std::move(item));
    }
  }
  enforce_cv_.notify_one();
}

void Node::EnforceLoop() {
  while (true) {
    std::pair<std::string, std::string> item;
    {
      std::unique_lock lock(enforce_mutex_);
      enforce_cv_.wait(lock, [&] { return enforce_stopping_ || !enforce_queue_.empty(); });
      if (enforce_stopping_) return;
      item = std::move(enforce_queue_.front());
      enforce_queue_.pop_front();
    }
    const auto& [mesh_id, node] = item;
    std::vector<std::string> nodes;
    if (!node.empty()) {
      nodes.push_back(node);
    } else {
      // Every member with a standing of record (an empty node id asks for all of them).
      std::shared_ptr<const StandingMap> standings = StandingOf(mesh_id);
      for (const auto& [id, standing] : *standings) nodes.push_back(id);
    }
    for (const auto& node_id : nodes) {
      for (const auto& d : StoresOfMesh(mesh_id)) {
        Store* store = StoreById(d.id);
        if (store == nullptr) continue;
        auto changed = store->Reexamine(node_id, RightsOf(mesh_id, d.id, node_id));
        if (!changed.ok()) {
          spdlog::error("store {}: enforcing the standing of {} failed: {}", FormatStoreId(d.id),
                        ShortHex(node_id), changed.status().message());
        } else if (*changed > 0) {
          spdlog::info("store {}: {} intentions of {} changed standing", FormatStoreId(d.id),
                       *changed, ShortHex(node_id));
        }
      }
    }
  }
}

}  // namespace lattice::kernel
