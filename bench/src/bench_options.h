// What a run of lattice-kernel-bench measures and for how long: its command-line flags.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "load_generator.h"

namespace lattice::bench {

// Sections --only may name.
inline const std::vector<std::string> kBenchSections = {
    "leveldb", "crypto", "floor", "kernel", "etcd", "sustained", "watch", "inprocess"};

struct BenchOptions {
  double duration_s = 3;          // measured seconds per figure
  int warmup_ms = 300;            // uncounted calls before each figure
  int rounds = 3;                 // figures are medians over the rounds
  int clients = 16;               // the "many clients" count
  size_t value_bytes = 128;
  size_t key_bytes = 24;          // keys are padded to this size
  size_t batch_rows = 64;         // rows per Kv.Batch and per LevelDB WriteBatch
  uint64_t get_keys = 10'000;     // keys written before the Get figures
  std::string work_dir = "/tmp";  // where the temporary directory is made
  bool keep = false;              // keep the temporary directory
  std::vector<std::string> only;  // sections to run; empty: all
  std::vector<uint64_t> startup_sizes;  // store sizes for the start-up figures; empty: none
  int startup_restarts = 3;
  int fill_threads = 64;
  // The kernel's and etcd's batch load run this long once more after the rounds, for their
  // worst latencies under a sustained write load (section "sustained"; 0: not run).
  double sustained_s = 60;
  std::string kernel_binary;
  std::string floor_binary;
  std::string etcd_binary = "/usr/bin/etcd";  // Debian's etcd-server
  std::string json_path;

  LoadOptions Load(int clients_for_run) const {
    LoadOptions load;
    load.clients = clients_for_run;
    load.warmup = std::chrono::milliseconds(warmup_ms);
    load.duration = std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
    return load;
  }
  bool Runs(const std::string& section) const {
    return only.empty() || std::find(only.begin(), only.end(), section) != only.end();
  }
};

}  // namespace lattice::bench
