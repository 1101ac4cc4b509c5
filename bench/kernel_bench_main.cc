// lattice-kernel-bench: the single-node kernel's benchmarks (issues 6 and 18). In each round
// it measures this machine's baselines (LevelDB sync writes, Ed25519, the gRPC floor) and
// etcd (Debian's etcd-server, one member on a Unix socket) next to the real lattice-kernel
// process driven through its socket, then prints every figure's median over the rounds and
// the ratios the targets are stated in. After the rounds the kernel's and etcd's batch loads
// run once more for a minute, for their worst latencies under sustained writes. With
// --startup-sizes it also measures the kernel's start-up time and memory on stores of that
// many intentions.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "baselines.h"
#include "bench_main.h"
#include "bench_options.h"
#include "client_loads.h"
#include "cpu_time.h"
#include "etcd_loads.h"
#include "etcd_server.h"
#include "in_process_node.h"
#include "lattice/common/crypto.h"
#include "lattice/common/status.h"
#include "load_generator.h"
#include "progress.h"
#include "results.h"
#include "server_process.h"
#include "startup_bench.h"
#include "watch_latency.h"

#ifndef LATTICE_KERNEL_BINARY
#define LATTICE_KERNEL_BINARY "lattice-kernel"
#endif
#ifndef LATTICE_FLOOR_BINARY
#define LATTICE_FLOOR_BINARY "lattice-bench-floor"
#endif

namespace lattice::bench {
namespace {

constexpr char kFloorGroup[] = "gRPC floor (do-nothing Kv on a Unix socket)";
constexpr char kKernelGroup[] = "lattice-kernel through its socket";
constexpr char kInProcessGroup[] = "kernel store without RPC";
constexpr char kEtcdGroup[] = "etcd through its gRPC KV API (one member, Unix socket)";
constexpr char kSustainedGroup[] = "sustained batch load (after the rounds)";

// Worst call a sustained batch load may take (issue 18).
constexpr double kMaxBatchCallUs = 250'000;

// `tails`: also its p99.9 and its slowest call.
void DeclareLoad(Results& results, const std::string& name, const std::string& unit,
                 const std::string& group, bool two_processes, bool tails = false) {
  results.Declare(name, unit, group);
  results.Declare(name + " p50", "us", group);
  results.Declare(name + " p99", "us", group);
  if (tails) {
    results.Declare(name + " p99.9", "us", group);
    results.Declare(name + " max", "us", group);
  }
  if (two_processes) {
    results.Declare(name + " server cpu/op", "us", group);
    results.Declare(name + " server switches/op", "count", group);
    results.Declare(name + " client cpu/op", "us", group);
  } else {
    results.Declare(name + " cpu/op", "us", group);
  }
}

// Adds the rate (times `rows_per_op`), the p50/p99 latencies (and p99.9 and the slowest
// call, which only figures declared with tails show) and the CPU per call of `result` as
// `name`.
void Record(Results& results, const std::string& name, const LoadResult& result,
            const CpuWindow& cpu, double rows_per_op = 1) {
  results.Add(name, result.rate() * rows_per_op);
  results.Add(name + " p50", result.PercentileUs(50));
  results.Add(name + " p99", result.PercentileUs(99));
  if (results.Declared(name + " max")) {
    results.Add(name + " p99.9", result.PercentileUs(99.9));
    results.Add(name + " max", result.PercentileUs(100));
  }
  if (result.ops > 0) {
    double ops = static_cast<double>(result.ops);
    if (cpu.has_server()) {
      results.Add(name + " server cpu/op", cpu.server_seconds() / ops * 1e6);
      if (auto switches = cpu.server_switches()) {
        results.Add(name + " server switches/op", static_cast<double>(*switches) / ops);
      }
      results.Add(name + " client cpu/op", cpu.self_seconds() / ops * 1e6);
    } else {
      results.Add(name + " cpu/op", cpu.self_seconds() / ops * 1e6);
    }
  }
  if (result.errors > 0) {
    Progress(fmt::format("{}: {} failed calls, the first: {}", name, result.errors,
                         result.first_error));
  }
}

// The names of a run's figures, fixed by its options.
struct FigureNames {
  explicit FigureNames(const BenchOptions& o)
      : many(std::to_string(o.clients)), rows(std::to_string(o.batch_rows)) {}
  std::string many, rows;

  std::string LevelDbPut1() const { return "leveldb sync put 1 thread"; }
  std::string LevelDbPutMany() const { return "leveldb sync put " + many + " threads"; }
  std::string LevelDbBatch() const { return "leveldb sync batch" + rows + " 1 thread"; }
  std::string Floor(const std::string& op, int clients) const {
    return fmt::format("floor {} {}c", op, clients);
  }
  std::string DurableFloorPut1() const { return "durable floor put 1c"; }
  std::string HandedOffFloorPut(int clients) const {
    return fmt::format("handed-off durable floor put {}c", clients);
  }
  std::string HandedOffFloorBatch() const {
    return "handed-off durable floor batch" + rows + " " + many + "c";
  }
  std::string Kernel(const std::string& op, int clients) const {
    return fmt::format("kernel {} {}c", op, clients);
  }
  std::string KernelBatch() const { return "kernel batch" + rows + " " + many + "c"; }
  std::string KernelAppliedPut() const { return "kernel put applied " + many + "c"; }
  std::string Etcd(const std::string& op, int clients) const {
    return fmt::format("etcd {} {}c", op, clients);
  }
  std::string EtcdBatch() const { return "etcd txn" + rows + " " + many + "c"; }
  std::string SustainedKernelBatch() const { return "kernel batch" + rows + " " + many + "c, sustained"; }
  std::string SustainedEtcdBatch() const { return "etcd txn" + rows + " " + many + "c, sustained"; }
  std::string InProcess(int threads) const {
    return threads == 1 ? "in-process Store::WriteKv 1 thread"
                        : fmt::format("in-process Store::WriteKv {} threads", threads);
  }
};

void DeclareFigures(Results& r, const BenchOptions& o) {
  FigureNames n(o);
  DeclareLoad(r, n.LevelDbPut1(), "writes/s", "baselines", false);
  DeclareLoad(r, n.LevelDbPutMany(), "writes/s", "baselines", false);
  DeclareLoad(r, n.LevelDbBatch(), "rows/s", "baselines", false);
  r.Declare("ed25519 sign (200 B)", "ops/s", "baselines");
  r.Declare("ed25519 verify (200 B)", "ops/s", "baselines");
  for (const char* op : {"put", "get"}) {
    for (int clients : {1, o.clients}) DeclareLoad(r, n.Floor(op, clients), "calls/s", kFloorGroup, true);
  }
  DeclareLoad(r, n.DurableFloorPut1(), "calls/s", kFloorGroup, true);
  DeclareLoad(r, n.HandedOffFloorPut(1), "calls/s", kFloorGroup, true);
  DeclareLoad(r, n.HandedOffFloorPut(o.clients), "calls/s", kFloorGroup, true, true);
  DeclareLoad(r, n.HandedOffFloorBatch(), "rows/s", kFloorGroup, true, true);
  DeclareLoad(r, n.Kernel("put", 1), "calls/s", kKernelGroup, true);
  DeclareLoad(r, n.Kernel("put", o.clients), "calls/s", kKernelGroup, true, true);
  DeclareLoad(r, n.KernelAppliedPut(), "calls/s", kKernelGroup, true, true);
  DeclareLoad(r, n.KernelBatch(), "rows/s", kKernelGroup, true, true);
  DeclareLoad(r, n.Kernel("get", 1), "calls/s", kKernelGroup, true);
  DeclareLoad(r, n.Kernel("get", o.clients), "calls/s", kKernelGroup, true);
  r.Declare("kernel put->watch event p50", "us", kKernelGroup);
  r.Declare("kernel put->watch event p99", "us", kKernelGroup);
  r.Declare("kernel put->watch: the put call itself p50", "us", kKernelGroup);
  DeclareLoad(r, n.InProcess(1), "writes/s", kInProcessGroup, false);
  DeclareLoad(r, n.InProcess(o.clients), "writes/s", kInProcessGroup, false);
  DeclareLoad(r, n.Etcd("put", 1), "calls/s", kEtcdGroup, true);
  DeclareLoad(r, n.Etcd("put", o.clients), "calls/s", kEtcdGroup, true, true);
  DeclareLoad(r, n.EtcdBatch(), "rows/s", kEtcdGroup, true, true);
  DeclareLoad(r, n.Etcd("get", 1), "calls/s", kEtcdGroup, true);
  DeclareLoad(r, n.Etcd("get", o.clients), "calls/s", kEtcdGroup, true);
  DeclareLoad(r, n.SustainedKernelBatch(), "rows/s", kSustainedGroup, true, true);
  DeclareLoad(r, n.SustainedEtcdBatch(), "rows/s", kSustainedGroup, true, true);

  // The targets of issue 18: beside etcd, which also fsyncs every acknowledged write.
  r.AddRatio({"put 1c / etcd put 1c", n.Kernel("put", 1), n.Etcd("put", 1), 1.3});
  r.AddRatio({fmt::format("put {0}c / etcd put {0}c", o.clients), n.Kernel("put", o.clients),
              n.Etcd("put", o.clients), 2});
  r.AddRatio({fmt::format("put {0}c p99 / etcd put {0}c p99", o.clients),
              n.Kernel("put", o.clients) + " p99", n.Etcd("put", o.clients) + " p99", 1, true});
  r.AddRatio({fmt::format("batch{0} rows {1}c / etcd txn{0} rows {1}c", n.rows, o.clients),
              n.KernelBatch(), n.EtcdBatch(), 2});
  r.AddRatio({fmt::format("put applied {0}c / floor put {0}c", o.clients), n.KernelAppliedPut(),
              n.Floor("put", o.clients), 0.6});
  r.AddRatio({fmt::format("get {0}c / etcd get {0}c", o.clients), n.Kernel("get", o.clients),
              n.Etcd("get", o.clients), 2});
  r.AddRatio({fmt::format("(info) sustained batch{0} rows / etcd's", n.rows),
              n.SustainedKernelBatch(), n.SustainedEtcdBatch(), NAN});
  r.AddBound({"sustained kernel batch: slowest call (us)", n.SustainedKernelBatch() + " max",
              kMaxBatchCallUs});
  r.AddBound({"kernel batch in the rounds: slowest call (us)", n.KernelBatch() + " max",
              kMaxBatchCallUs});

  // The targets of issue 6.
  r.AddRatio({"put 1c / leveldb sync put 1t", n.Kernel("put", 1), n.LevelDbPut1(), 0.65});
  r.AddRatio({fmt::format("put {0}c / floor put {0}c", o.clients), n.Kernel("put", o.clients),
              n.Floor("put", o.clients), 0.6});
  r.AddRatio({fmt::format("batch{} rows {}c / leveldb batch{}", n.rows, o.clients, n.rows),
              n.KernelBatch(), n.LevelDbBatch(), 0.5});
  r.AddRatio({fmt::format("get {0}c / floor get {0}c", o.clients), n.Kernel("get", o.clients),
              n.Floor("get", o.clients), 0.8});
  // Context for reading them.
  r.AddRatio({fmt::format("(info) put {0}c / leveldb put {0}t", o.clients),
              n.Kernel("put", o.clients), n.LevelDbPutMany(), NAN});
  r.AddRatio({"(info) put 1c / floor put 1c", n.Kernel("put", 1), n.Floor("put", 1), NAN});
  // The floor whose puts each write and fdatasync their request as the kernel writes its
  // log: what one durable write per call costs through this API, the ceiling for the
  // kernel's 1-client put.
  r.AddRatio({"(info) durable floor put 1c / leveldb sync put 1t", n.DurableFloorPut1(),
              n.LevelDbPut1(), NAN});
  r.AddRatio({"(info) put 1c / durable floor put 1c", n.Kernel("put", 1), n.DurableFloorPut1(), NAN});
  // The same durable floor with its syncs on a writer thread of its own, answering from it
  // (no gRPC thread waits for the disk, as issue 18 asks of the kernel): the ceiling of the
  // kernel's targets against etcd, before any of the kernel's own work.
  r.AddRatio({"(info) handed-off durable floor put 1c / etcd put 1c", n.HandedOffFloorPut(1),
              n.Etcd("put", 1), NAN});
  r.AddRatio({"(info) put 1c / handed-off durable floor put 1c", n.Kernel("put", 1),
              n.HandedOffFloorPut(1), NAN});
  r.AddRatio({fmt::format("(info) handed-off durable floor put {0}c / etcd put {0}c", o.clients),
              n.HandedOffFloorPut(o.clients), n.Etcd("put", o.clients), NAN});
  r.AddRatio({fmt::format("(info) handed-off durable floor batch{0} rows / etcd txn{0} rows", n.rows),
              n.HandedOffFloorBatch(), n.EtcdBatch(), NAN});
  r.AddRatio({fmt::format("(info) batch{0} rows / handed-off durable floor batch{0} rows", n.rows),
              n.KernelBatch(), n.HandedOffFloorBatch(), NAN});
  r.AddRatio({"(info) get 1c / floor get 1c", n.Kernel("get", 1), n.Floor("get", 1), NAN});
  r.AddRatio({"(info) in-process 1t / leveldb sync put 1t", n.InProcess(1), n.LevelDbPut1(), NAN});
  r.AddRatio({fmt::format("(info) in-process {0}t / floor put {0}c", o.clients),
              n.InProcess(o.clients), n.Floor("put", o.clients), NAN});
}

// What one round measures against.
struct Targets {
  const ServerProcess* floor = nullptr;   // null when the floor section is off
  const ServerProcess* durable_floor = nullptr;  // likewise
  const ServerProcess* handed_off_floor = nullptr;  // likewise
  const ServerProcess* kernel = nullptr;  // null when neither kernel nor watch runs
  std::string kernel_store;
  const ServerProcess* etcd = nullptr;    // null when the etcd section is off
  InProcessNode* in_process = nullptr;    // null when the inprocess section is off
  std::string scratch;                    // for the LevelDB baselines
};

// One round: every baseline next to the kernel figure it is compared with.
void RunRound(int round, const BenchOptions& o, const Targets& t, Results& r) {
  FigureNames n(o);
  const std::string tag = fmt::format("r{}", round);
  ClientLoadShape shape{t.kernel_store, Filler(o.value_bytes, 42), o.key_bytes, o.batch_rows,
                        o.get_keys};
  ClientLoads on_kernel(t.kernel, shape);
  shape.store = "bench";
  ClientLoads on_floor(t.floor, shape);
  ClientLoads on_durable_floor(t.durable_floor, shape);
  ClientLoads on_handed_off_floor(t.handed_off_floor, shape);
  EtcdLoads on_etcd(t.etcd != nullptr ? t.etcd->options().socket : "", shape);

  auto report = [&](const std::string& name, const LoadResult& result, const CpuWindow& cpu,
                    double rows_per_op = 1) {
    Record(r, name, result, cpu, rows_per_op);
    Progress(fmt::format("round {}: {} = {:.0f}", round, name, result.rate() * rows_per_op));
  };
  auto leveldb = [&](const std::string& name, int threads, size_t rows) {
    if (!o.Runs("leveldb")) return;
    LevelDbBaselineOptions options;
    options.dir = t.scratch + "/leveldb-baseline";
    options.threads = threads;
    options.rows_per_write = rows;
    options.key_bytes = o.key_bytes;
    options.value_bytes = o.value_bytes;
    options.load = o.Load(threads);
    CpuWindow cpu;
    cpu.Attach(options.load);
    report(name, OrFail(MeasureLevelDbSyncWrites(options), name), cpu, static_cast<double>(rows));
  };
  // `measure(load)` runs one figure against `server` (skipped when it is null).
  auto served = [&](const std::string& name, const ServerProcess* server, int clients,
                    auto&& measure, double rows_per_op = 1) {
    if (server == nullptr) return;
    CpuWindow cpu(server->pid());
    LoadOptions load = o.Load(clients);
    cpu.Attach(load);
    report(name, OrFail(measure(load), name), cpu, rows_per_op);
  };
  const ServerProcess* kernel = o.Runs("kernel") ? t.kernel : nullptr;
  const ServerProcess* etcd = o.Runs("etcd") ? t.etcd : nullptr;
  const int many = o.clients;
  const double rows = static_cast<double>(o.batch_rows);

  leveldb(n.LevelDbPut1(), 1, 1);
  served(n.Kernel("put", 1), kernel, 1, [&](LoadOptions l) { return on_kernel.Puts(l, "put1/" + tag); });
  served(n.Etcd("put", 1), etcd, 1, [&](LoadOptions l) { return on_etcd.Puts(l, "put1/" + tag); });
  served(n.DurableFloorPut1(), t.durable_floor, 1,
         [&](LoadOptions l) { return on_durable_floor.Puts(l, "put"); });
  served(n.HandedOffFloorPut(1), t.handed_off_floor, 1,
         [&](LoadOptions l) { return on_handed_off_floor.Puts(l, "put"); });
  served(n.Floor("put", many), t.floor, many, [&](LoadOptions l) { return on_floor.Puts(l, "put"); });
  served(n.Kernel("put", many), kernel, many, [&](LoadOptions l) { return on_kernel.Puts(l, "putN/" + tag); });
  served(n.KernelAppliedPut(), kernel, many, [&](LoadOptions l) {
    return on_kernel.Puts(l, "putA/" + tag, v1::DURABILITY_APPLIED);
  });
  served(n.Etcd("put", many), etcd, many, [&](LoadOptions l) { return on_etcd.Puts(l, "putN/" + tag); });
  served(n.HandedOffFloorPut(many), t.handed_off_floor, many,
         [&](LoadOptions l) { return on_handed_off_floor.Puts(l, "put"); });
  leveldb(n.LevelDbBatch(), 1, o.batch_rows);
  served(n.KernelBatch(), kernel, many,
         [&](LoadOptions l) { return on_kernel.Batches(l, "batch/" + tag); }, rows);
  served(n.EtcdBatch(), etcd, many,
         [&](LoadOptions l) { return on_etcd.Batches(l, "batch/" + tag); }, rows);
  served(n.HandedOffFloorBatch(), t.handed_off_floor, many,
         [&](LoadOptions l) { return on_handed_off_floor.Batches(l, "batch"); }, rows);
  served(n.Floor("get", 1), t.floor, 1, [&](LoadOptions l) { return on_floor.Gets(l); });
  served(n.Kernel("get", 1), kernel, 1, [&](LoadOptions l) { return on_kernel.Gets(l); });
  served(n.Etcd("get", 1), etcd, 1, [&](LoadOptions l) { return on_etcd.Gets(l); });
  served(n.Floor("get", many), t.floor, many, [&](LoadOptions l) { return on_floor.Gets(l); });
  served(n.Kernel("get", many), kernel, many, [&](LoadOptions l) { return on_kernel.Gets(l); });
  served(n.Etcd("get", many), etcd, many, [&](LoadOptions l) { return on_etcd.Gets(l); });
  served(n.Floor("put", 1), t.floor, 1, [&](LoadOptions l) { return on_floor.Puts(l, "put"); });
  leveldb(n.LevelDbPutMany(), many, 1);

  if (o.Runs("crypto")) {
    auto duration = std::chrono::milliseconds(static_cast<int64_t>(std::min(o.duration_s, 1.0) * 1000));
    r.Add("ed25519 sign (200 B)", MeasureEd25519SignRate(duration));
    r.Add("ed25519 verify (200 B)", MeasureEd25519VerifyRate(duration));
  }

  if (t.kernel != nullptr && o.Runs("watch")) {
    auto watch = OrFail(MeasureWatchLatency([&] { return t.kernel->Connect(); }, t.kernel_store,
                                            o.value_bytes, std::chrono::milliseconds(o.warmup_ms),
                                            o.Load(1).duration),
                        "watch latency");
    r.Add("kernel put->watch event p50", Percentile(watch.latencies_us, 50));
    r.Add("kernel put->watch event p99", Percentile(watch.latencies_us, 99));
    r.Add("kernel put->watch: the put call itself p50", Percentile(watch.put_us, 50));
    Progress(fmt::format("round {}: put->watch p50 {:.0f} us over {} samples ({} lost)", round,
                         Percentile(watch.latencies_us, 50), watch.latencies_us.size(), watch.lost));
  }

  if (t.in_process != nullptr) {
    for (int threads : {1, many}) {
      CpuWindow cpu;  // this process only: the store's writer thread and the callers
      LoadOptions load = o.Load(threads);
      cpu.Attach(load);
      std::string name = n.InProcess(threads);
      report(name,
             OrFail(t.in_process->MeasureWrites(load, o.value_bytes, fmt::format("w{}/{}", threads, tag)), name),
             cpu);
    }
  }
}

// Lists the calls over the bound with when they started (UTC, as the kernel logs), the
// first few, to line them up with the server's log.
void ReportSlowCalls(const std::string& name, const LoadResult& result) {
  if (result.slow_calls.empty()) return;
  std::vector<SlowCall> calls = result.slow_calls;
  std::sort(calls.begin(), calls.end(),
            [](const SlowCall& a, const SlowCall& b) { return a.started < b.started; });
  constexpr size_t kShown = 10;
  for (size_t i = 0; i < calls.size() && i < kShown; ++i) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        calls[i].started.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    Progress(fmt::format("{}: a call started at {:02}:{:02}:{:02}.{:03} took {:.0f} ms", name,
                         utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000, calls[i].us / 1000));
  }
  if (calls.size() > kShown) {
    Progress(fmt::format("{}: {} calls over {:.0f} ms in all", name, calls.size(),
                         kMaxBatchCallUs / 1000));
  }
}

// The batch loads once more, for `sustained_s` each: a write load long enough to fill
// memtables and set compactions going, whose slowest calls the bound is stated on.
void RunSustained(const BenchOptions& o, const Targets& t, Results& r) {
  if (o.sustained_s <= 0 || !o.Runs("sustained")) return;
  FigureNames n(o);
  ClientLoadShape shape{t.kernel_store, Filler(o.value_bytes, 43), o.key_bytes, o.batch_rows,
                        o.get_keys};
  LoadOptions load = o.Load(o.clients);
  load.duration = std::chrono::milliseconds(static_cast<int64_t>(o.sustained_s * 1000));
  load.slow_call = std::chrono::microseconds(static_cast<int64_t>(kMaxBatchCallUs));
  const double rows = static_cast<double>(o.batch_rows);
  auto run = [&](const std::string& name, const ServerProcess* server, auto&& measure) {
    if (server == nullptr) return;
    CpuWindow cpu(server->pid());
    LoadOptions measured = load;
    cpu.Attach(measured);
    LoadResult result = OrFail(measure(measured), name);
    Record(r, name, result, cpu, rows);
    Progress(fmt::format("{} = {:.0f} rows/s, p99.9 {:.0f} us, slowest {:.0f} us", name,
                         result.rate() * rows, result.PercentileUs(99.9),
                         result.PercentileUs(100)));
    ReportSlowCalls(name, result);
  };
  ClientLoads on_kernel(t.kernel, shape);
  run(n.SustainedKernelBatch(), t.kernel,
      [&](LoadOptions l) { return on_kernel.Batches(l, "sustained"); });
  EtcdLoads on_etcd(t.etcd != nullptr ? t.etcd->options().socket : "", shape);
  run(n.SustainedEtcdBatch(), t.etcd, [&](LoadOptions l) { return on_etcd.Batches(l, "sustained"); });
}

// Starts what the rounds need, runs them and stops it again.
void RunRounds(const BenchOptions& o, const std::string& dir, Results& results) {
  Targets targets;
  targets.scratch = dir;
  std::unique_ptr<ServerProcess> floor, durable_floor, handed_off_floor, kernel, etcd;
  std::unique_ptr<InProcessNode> in_process;
  if (o.Runs("floor")) {
    enum class Sync { kNone, kInHandler, kHandedOff };
    auto start_floor = [&](const std::string& name, Sync sync) {
      std::filesystem::create_directories(dir + "/" + name);
      ServerOptions options;
      options.socket = dir + "/" + name + "/floor.sock";
      options.argv = {o.floor_binary, "--socket", options.socket, "--value-bytes",
                      std::to_string(o.value_bytes)};
      if (sync != Sync::kNone) {
        // On the work directory's disk, like the kernel's data and the LevelDB baselines.
        options.argv.push_back("--sync-file");
        options.argv.push_back(dir + "/" + name + "/writes.log");
      }
      if (sync == Sync::kHandedOff) options.argv.push_back("--hand-off");
      options.token = "floor";  // the floor checks nothing; any bearer will do
      options.log_path = dir + "/" + name + "/floor.log";
      return OrFail(ServerProcess::Start(options, /*check_status=*/false), "start " + name);
    };
    floor = start_floor("floor", Sync::kNone);
    targets.floor = floor.get();
    durable_floor = start_floor("durable-floor", Sync::kInHandler);
    targets.durable_floor = durable_floor.get();
    handed_off_floor = start_floor("handed-off-floor", Sync::kHandedOff);
    targets.handed_off_floor = handed_off_floor.get();
  }
  if (o.Runs("kernel") || o.Runs("watch") || o.Runs("sustained")) {
    std::filesystem::create_directories(dir + "/kernel");
    ServerOptions options;
    options.socket = dir + "/kernel/kernel.sock";
    options.argv = KernelArgv(o.kernel_binary, dir + "/kernel/data", options.socket, "bench");
    options.log_path = dir + "/kernel/kernel.log";
    kernel = OrFail(ServerProcess::Start(options, /*check_status=*/true), "start the kernel");
    Progress(fmt::format("kernel up in {:.0f} ms", kernel->startup_time().count() * 1000));
    auto admin = OrFail(kernel->Connect(), "connect to the kernel");
    targets.kernel_store = OrFail(admin->CreateStore("bench", "kv"), "create the bench store").id();
    ClientLoadShape shape{targets.kernel_store, Filler(o.value_bytes, 42), o.key_bytes,
                          o.batch_rows, o.get_keys};
    if (absl::Status s = PrefillGetKeys(*admin, shape); !s.ok()) Fail("write the keys Get reads", s);
    targets.kernel = kernel.get();
  }
  if (o.Runs("etcd")) {
    etcd = OrFail(StartEtcd(o.etcd_binary, dir + "/etcd"), "start etcd (" + o.etcd_binary + ")");
    Progress(fmt::format("etcd up in {:.0f} ms", etcd->startup_time().count() * 1000));
    ClientLoadShape shape{"", Filler(o.value_bytes, 42), o.key_bytes, o.batch_rows, o.get_keys};
    if (absl::Status s = EtcdLoads(etcd->options().socket, shape).PrefillGetKeys(); !s.ok()) {
      Fail("write the keys etcd's Get reads", s);
    }
    targets.etcd = etcd.get();
  }
  if (o.Runs("inprocess")) {
    in_process = OrFail(InProcessNode::Open(dir + "/inprocess", "bench-inprocess", "bench"),
                        "open the in-process node");
    targets.in_process = in_process.get();
  }
  for (int round = 1; round <= o.rounds; ++round) RunRound(round, o, targets, results);
  RunSustained(o, targets, results);
  if (etcd) (void)etcd->Stop();  // etcd ends on SIGTERM by raising it again: not an exit 0
  if (kernel) {
    if (absl::Status s = kernel->Stop(); !s.ok()) Progress("kernel stop: " + std::string(s.message()));
  }
}

int Main(int argc, char** argv) {
  BenchOptions o;
  o.kernel_binary = LATTICE_KERNEL_BINARY;
  o.floor_binary = LATTICE_FLOOR_BINARY;
  std::string only, startup_sizes;
  CLI::App app{"lattice-kernel-bench: the single-node kernel against this machine's own baselines"};
  app.add_option("--duration", o.duration_s, "measured seconds per figure")->capture_default_str();
  app.add_option("--warmup-ms", o.warmup_ms, "uncounted warm-up before each figure")->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds; figures are medians over them (0: none)")->capture_default_str();
  app.add_option("--clients", o.clients, "the 'many clients' count")->capture_default_str();
  app.add_option("--value-bytes", o.value_bytes, "value size of every write")->capture_default_str();
  app.add_option("--key-bytes", o.key_bytes, "key size (keys are padded to it)")->capture_default_str();
  app.add_option("--batch-rows", o.batch_rows, "rows per Batch call and per LevelDB batch")->capture_default_str();
  app.add_option("--get-keys", o.get_keys, "keys written before the Get figures")->capture_default_str();
  app.add_option("--work-dir", o.work_dir, "where the temporary directory is made (the disk measured)")->capture_default_str();
  app.add_flag("--keep", o.keep, "keep the temporary directory");
  app.add_option("--only", only, "comma list of sections: leveldb,crypto,floor,kernel,etcd,sustained,watch,inprocess (default: all)");
  app.add_option("--sustained-s", o.sustained_s, "seconds of each sustained batch load after the rounds (0: none)")->capture_default_str();
  app.add_option("--etcd", o.etcd_binary, "etcd binary (Debian's etcd-server)")->capture_default_str();
  app.add_option("--startup-sizes", startup_sizes, "comma list of store sizes in intentions for the start-up figures, e.g. 100000,1000000 (default: none)");
  app.add_option("--startup-restarts", o.startup_restarts, "measured starts per size")->capture_default_str();
  app.add_option("--fill-threads", o.fill_threads, "writers filling the start-up store")->capture_default_str();
  app.add_option("--kernel", o.kernel_binary, "lattice-kernel binary")->capture_default_str();
  app.add_option("--floor", o.floor_binary, "lattice-bench-floor binary")->capture_default_str();
  app.add_option("--json", o.json_path, "also write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);
  for (const auto& section : SplitList(only)) {
    if (std::find(kBenchSections.begin(), kBenchSections.end(), section) == kBenchSections.end()) {
      std::fprintf(stderr, "lattice-kernel-bench: --only: unknown section \"%s\"\n", section.c_str());
      return 2;
    }
    o.only.push_back(section);
  }
  for (const auto& size : SplitList(startup_sizes)) {
    try {
      o.startup_sizes.push_back(std::stoull(size));
    } catch (const std::exception&) {
      std::fprintf(stderr, "lattice-kernel-bench: --startup-sizes: \"%s\" is not a count\n", size.c_str());
      return 2;
    }
  }

  InitCrypto();
  spdlog::set_level(spdlog::level::warn);  // the in-process node logs like a kernel
  ::signal(SIGPIPE, SIG_IGN);

  const std::string dir = MakeWorkDir(o.work_dir, "lattice-bench");

  Results results;
  DeclareFigures(results, o);
  if (o.rounds > 0 || (o.sustained_s > 0 && o.Runs("sustained"))) RunRounds(o, dir, results);
  if (!o.startup_sizes.empty()) {
    std::filesystem::create_directories(dir + "/startup");
    if (absl::Status s = MeasureStartup(o, dir + "/startup", results); !s.ok()) Fail("start-up", s);
  }

  FinishRun(results, o.json_path, dir, o.keep);
  return 0;
}

}  // namespace
}  // namespace lattice::bench

int main(int argc, char** argv) { return lattice::bench::Main(argc, argv); }
