// What a run of lattice-replication-bench measures and for how long: its command-line flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lattice::bench {

struct ReplicationBenchOptions {
  uint64_t intentions = 100'000;   // in the store node B bootstraps
  int rounds = 3;                  // fresh joiner (bootstrap) / fresh samples (latency) each
  int fill_threads = 64;           // writers filling node A's store in this process
  size_t value_bytes = 32;         // of every put: a small put per intention
  std::vector<size_t> mesh_sizes = {3, 5};
  double duration_s = 3;           // measured seconds per latency figure
  int warmup_ms = 300;             // uncounted puts before each latency figure
  int verify_ms = 1000;            // length of the Ed25519 verify baseline in each round
  int sync_interval_ms = 0;        // --sync-interval-ms of every kernel; 0: the default
  std::chrono::seconds bootstrap_timeout{600};
  std::string ip_prefix;           // "127.B.C"; empty: one picked for this run
  std::string work_dir = "/tmp";
  bool keep = false;
  bool run_bootstrap = true;
  bool run_latency = true;
  std::string kernel_binary;
  std::string json_path;

  std::chrono::milliseconds duration() const {
    return std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
  }
  std::chrono::milliseconds warmup() const { return std::chrono::milliseconds(warmup_ms); }
};

}  // namespace lattice::bench
