// Bootstrap throughput (DESIGN §7): a real kernel, node A, holds a kv store of N single-put
// intentions; in each round a fresh kernel, node B, joins A's mesh and streams that store
// from A in witness order, verifying every signature. The rate is set beside this machine's
// raw Ed25519 verify rate measured in the same round and process.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "replication_options.h"
#include "results.h"

namespace lattice::bench {

// Fills node A's store in this process (the kernel's own Node, many writer threads), starts
// A on it at `ip_prefix`.10, then runs options.rounds rounds, each with a new node B at
// `ip_prefix`.(20 + round): the verify baseline, Admin.JoinMesh on B, and Admin.Status
// polled on B until the store's bootstrap is done with every intention received. Adds per
// round: intentions/s from the join call to done, the verify rate, the join call's own
// time, both kernels' CPU per intention and B's bytes received per intention; then checks
// that B's copy has A's count and fingerprint.
absl::Status MeasureBootstrap(const ReplicationBenchOptions& options, const std::string& dir,
                              const std::string& ip_prefix, Results& results);

}  // namespace lattice::bench
