// Helpers shared by the multi-kernel replication tests: stores created on one node and
// awaited on the others, many concurrent writes, reads by key.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/cluster.h"
#include "integration/hand_played_peer.h"

namespace lattice::testing {

// Starts `nodes` kernels (anti-entropy every `sync_interval`) and joins them all to node
// 0's mesh. Null when a step failed, each failure reported to the running test.
std::unique_ptr<Cluster> StartMesh(size_t nodes,
                                   std::chrono::milliseconds sync_interval = std::chrono::milliseconds(500));

// Creates a kv store on node `on` and waits until every node in `nodes` knows it and has
// finished bootstrapping it. Returns its id.
absl::StatusOr<std::string> CreateStoreEverywhere(Cluster& cluster, size_t on,
                                                  const std::string& name,
                                                  const std::vector<size_t>& nodes,
                                                  const std::string& type = "kv");

// Writes keys `prefix`0 .. `prefix`(count-1) to `store` on node `on` from `threads`
// concurrent clients; returns the keys whose write was acknowledged (all of them unless the
// kernel went away mid-way).
std::vector<std::string> WriteKeys(Cluster& cluster, size_t on, const std::string& store,
                                   const std::string& prefix, size_t count, size_t threads = 8);

// The winning value of `key` on node `on`, or "" when absent (or on error).
std::string ValueOf(Cluster& cluster, size_t on, const std::string& store, const std::string& key);

// `store status --json` of node `on`.
absl::StatusOr<nlohmann::json> StoreStatus(Cluster& cluster, size_t on, const std::string& store);

std::vector<size_t> Range(size_t count);

// A mesh of `nodes` kernels with a store "notes" on every node, and a member the test plays
// by hand, invited by node 0.
struct MeshWithHandPlayedMember {
  std::unique_ptr<Cluster> cluster;
  std::string store;
  std::unique_ptr<HandPlayedPeer> member;
};
absl::StatusOr<MeshWithHandPlayedMember> MakeMeshWithHandPlayedMember(size_t nodes);

}  // namespace lattice::testing
