// Replication latency (DESIGN §7, gossip): a Kv.Watch stream is open on one kernel of a full
// mesh while another client puts keys one at a time on node 0; each sample runs from the
// start of the Put call to the event's arrival on the other kernel. Each round also takes
// the same figure on a kernel alone and on node 0 itself, for comparison.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "replication_options.h"
#include "results.h"

namespace lattice::bench {

// Starts a kernel that does not listen for peers (the lone kernel) and node 0 of the mesh at
// `ip_prefix`.100; then, for each of options.mesh_sizes ascending, grows the mesh to that
// size (node i at `ip_prefix`.(100 + i) joins node 0's mesh, and every node links with
// every other) and runs options.rounds rounds of put->watch: on the lone kernel, from node 0
// to the last node, and on node 0 alone.
absl::Status MeasureReplicationLatency(const ReplicationBenchOptions& options,
                                       const std::string& dir, const std::string& ip_prefix,
                                       Results& results);

}  // namespace lattice::bench
