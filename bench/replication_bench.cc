// lattice-replication-bench: replication between real lattice-kernel processes on loopback
// (DESIGN §7). Bootstrap: a fresh node joins a mesh whose store holds 100,000 intentions and
// streams it, verifying every signature; its rate is set beside this machine's raw Ed25519
// verify rate, measured in the same rounds. Latency: put on node 0 of a full mesh of 3 and of
// 5 kernels to the watch event on another node, beside the same figure on a kernel alone.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench_main.h"
#include "bootstrap_bench.h"
#include "lattice/common/crypto.h"
#include "peer_kernels.h"
#include "progress.h"
#include "replication_latency.h"
#include "replication_options.h"
#include "results.h"

#ifndef LATTICE_KERNEL_BINARY
#define LATTICE_KERNEL_BINARY "lattice-kernel"
#endif

namespace lattice::bench {
namespace {

// Rounds make one joiner each, at an IP of their own in the run's /24.
constexpr int kMaxRounds = 50;
constexpr size_t kMaxMeshSize = 50;

// The machine's 1-minute load average (/proc/loadavg), NaN when unreadable.
double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one_minute = NAN;
  in >> one_minute;
  return in ? one_minute : NAN;
}

int Main(int argc, char** argv) {
  ReplicationBenchOptions o;
  o.kernel_binary = LATTICE_KERNEL_BINARY;
  std::string only, mesh_sizes = "3,5";
  CLI::App app{"lattice-replication-bench: bootstrap throughput and replication latency of real "
               "lattice-kernel processes on loopback"};
  app.add_option("--intentions", o.intentions, "intentions in the store node B bootstraps")->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds; figures are medians over them")->capture_default_str();
  app.add_option("--mesh-sizes", mesh_sizes, "comma list of full-mesh sizes for the latency figures")->capture_default_str();
  app.add_option("--duration", o.duration_s, "measured seconds per latency figure")->capture_default_str();
  app.add_option("--warmup-ms", o.warmup_ms, "uncounted puts before each latency figure")->capture_default_str();
  app.add_option("--verify-ms", o.verify_ms, "length of the Ed25519 verify baseline in each bootstrap round")->capture_default_str();
  app.add_option("--value-bytes", o.value_bytes, "value size of every put")->capture_default_str();
  app.add_option("--fill-threads", o.fill_threads, "writers filling node A's store")->capture_default_str();
  app.add_option("--sync-interval-ms", o.sync_interval_ms, "--sync-interval-ms of every kernel (0: the kernel's default)")->capture_default_str();
  app.add_option("--ip-prefix", o.ip_prefix, "the run's loopback /24 as 127.B.C (default: picked from the process id)");
  app.add_option("--only", only, "comma list of sections: bootstrap,latency (default: both)");
  bool quick = false;
  app.add_flag(
      "--quick", quick, "a smoke run: unless given, 5,000 intentions, 1 round, 1 s per latency figure");
  app.add_option("--work-dir", o.work_dir, "where the temporary directory is made (the disk measured)")->capture_default_str();
  app.add_flag("--keep", o.keep, "keep the temporary directory (data and kernel logs)");
  app.add_option("--kernel", o.kernel_binary, "lattice-kernel binary")->capture_default_str();
  app.add_option("--json", o.json_path, "also write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);

  if (quick) {
    // Only what the command line does not set itself.
    auto unset = [&](const char* flag) { return app.get_option(flag)->count() == 0; };
    if (unset("--intentions")) o.intentions = 5'000;
    if (unset("--rounds")) o.rounds = 1;
    if (unset("--duration")) o.duration_s = 1;
    if (unset("--warmup-ms")) o.warmup_ms = 200;
    if (unset("--verify-ms")) o.verify_ms = 500;
  }
  if (!only.empty()) {
    o.run_bootstrap = o.run_latency = false;
    for (const auto& section : SplitList(only)) {
      if (section == "bootstrap") {
        o.run_bootstrap = true;
      } else if (section == "latency") {
        o.run_latency = true;
      } else {
        std::fprintf(stderr, "lattice-replication-bench: --only: unknown section \"%s\"\n", section.c_str());
        return 2;
      }
    }
  }
  o.mesh_sizes.clear();
  for (const auto& size : SplitList(mesh_sizes)) {
    size_t n = 0;
    try {
      n = std::stoul(size);
    } catch (const std::exception&) {
    }
    if (n < 2 || n > kMaxMeshSize) {
      std::fprintf(stderr, "lattice-replication-bench: --mesh-sizes: \"%s\" is not a size from 2 to %zu\n",
                   size.c_str(), kMaxMeshSize);
      return 2;
    }
    o.mesh_sizes.push_back(n);
  }
  if (o.rounds < 1 || o.rounds > kMaxRounds) {
    std::fprintf(stderr, "lattice-replication-bench: --rounds: from 1 to %d\n", kMaxRounds);
    return 2;
  }
  if (o.intentions == 0) {
    std::fprintf(stderr, "lattice-replication-bench: --intentions: at least 1\n");
    return 2;
  }

  InitCrypto();
  spdlog::set_level(spdlog::level::warn);  // the in-process node logs like a kernel
  ::signal(SIGPIPE, SIG_IGN);
  const std::string ip_prefix = o.ip_prefix.empty() ? RunLoopbackPrefix() : o.ip_prefix;
  const std::string dir = MakeWorkDir(o.work_dir, "lattice-replication-bench");
  Progress("kernels on " + ip_prefix + ".0/24");

  Results results;
  results.Declare("load average (1 min) at the start", "", "machine");
  results.Declare("load average (1 min) at the end", "", "machine");
  results.Add("load average (1 min) at the start", LoadAverage());
  if (o.run_bootstrap) {
    if (absl::Status s = MeasureBootstrap(o, dir + "/bootstrap", ip_prefix, results); !s.ok()) {
      Fail("bootstrap", s);
    }
  }
  if (o.run_latency) {
    if (absl::Status s = MeasureReplicationLatency(o, dir + "/latency", ip_prefix, results); !s.ok()) {
      Fail("latency", s);
    }
  }
  results.Add("load average (1 min) at the end", LoadAverage());
  FinishRun(results, o.json_path, dir, o.keep);
  return 0;
}

}  // namespace
}  // namespace lattice::bench

int main(int argc, char** argv) { return lattice::bench::Main(argc, argv); }
