// lattice-kernel-bench: the single-node kernel's benchmarks (issue 6). In each round it
// measures this machine's baselines (LevelDB sync writes, Ed25519, the gRPC floor) next to
// the real lattice-kernel process driven through its socket, then prints every figure's
// median over the rounds and the ratios the targets are stated in. Optionally it fills a
// store with N intentions and measures the kernel's start-up time and resident memory.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "baselines.h"
#include "cpu_time.h"
#include "in_process_node.h"
#include "lattice/client.h"
#include "lattice/common/crypto.h"
#include "lattice/common/status.h"
#include "load_generator.h"
#include "results.h"
#include "server_process.h"
#include "watch_latency.h"

#ifndef LATTICE_KERNEL_BINARY
#define LATTICE_KERNEL_BINARY "lattice-kernel"
#endif
#ifndef LATTICE_FLOOR_BINARY
#define LATTICE_FLOOR_BINARY "lattice-bench-floor"
#endif

namespace lattice::bench {
namespace {

using std::chrono::milliseconds;

const std::set<std::string> kSections = {"leveldb", "crypto", "floor", "kernel", "watch",
                                         "inprocess"};

struct Flags {
  double duration_s = 3;
  int warmup_ms = 300;
  int rounds = 3;
  int clients = 16;
  size_t value_bytes = 128;
  size_t key_bytes = 24;
  size_t batch_rows = 64;
  uint64_t get_keys = 10'000;
  std::string work_dir = "/tmp";
  bool keep = false;
  std::vector<std::string> only;
  std::vector<uint64_t> startup_sizes;
  int startup_restarts = 3;
  int fill_threads = 64;
  std::string kernel_binary = LATTICE_KERNEL_BINARY;
  std::string floor_binary = LATTICE_FLOOR_BINARY;
  std::string json_path;

  LoadOptions Load(int clients_for_run) const {
    LoadOptions load;
    load.clients = clients_for_run;
    load.warmup = milliseconds(warmup_ms);
    load.duration = milliseconds(static_cast<int64_t>(duration_s * 1000));
    return load;
  }
  bool Runs(const std::string& section) const {
    return only.empty() || std::find(only.begin(), only.end(), section) != only.end();
  }
};

[[noreturn]] void Fail(const std::string& what, const absl::Status& status) {
  fmt::print(stderr, "lattice-kernel-bench: {}: {}\n", what, std::string(status.message()));
  std::exit(1);
}

template <typename T>
T OrFail(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Fail(what, value.status());
  return *std::move(value);
}

void Note(const std::string& line) {
  fmt::print(stderr, "[bench] {}\n", line);
  std::fflush(stderr);
}

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string PaddedKey(std::string key, size_t bytes) {
  if (key.size() < bytes) key.append(bytes - key.size(), 'k');
  return key;
}

// Adds the rate (times `rows_per_op`) and the p50/p99 latencies of `result` as `name`.
void Record(Results& results, const std::string& name, const LoadResult& result,
            double rows_per_op = 1) {
  results.Add(name, result.rate() * rows_per_op);
  results.Add(name + " p50", result.PercentileUs(50));
  results.Add(name + " p99", result.PercentileUs(99));
  if (result.errors > 0) {
    Note(fmt::format("{}: {} failed calls, the first: {}", name, result.errors, result.first_error));
  }
}

void DeclareLoad(Results& results, const std::string& name, const std::string& unit,
                 const std::string& group) {
  results.Declare(name, unit, group);
  results.Declare(name + " p50", "us", group);
  results.Declare(name + " p99", "us", group);
}

// The CPU a server process and this (client) process spent per call in a window.
struct CpuMeter {
  pid_t server = -1;
  double server_start = 0, server_end = 0, self_start = 0, self_end = 0;

  void Attach(LoadOptions& load) {
    load.at_window_start = [this] {
      self_start = SelfCpuSeconds();
      if (server > 0) server_start = ProcessCpuSeconds(server).value_or(0);
    };
    load.at_window_end = [this] {
      self_end = SelfCpuSeconds();
      if (server > 0) server_end = ProcessCpuSeconds(server).value_or(0);
    };
  }
  void Record(Results& results, const std::string& name, const LoadResult& result) const {
    if (result.ops == 0) return;
    double ops = static_cast<double>(result.ops);
    if (server > 0) results.Add(name + " server cpu/op", (server_end - server_start) / ops * 1e6);
    results.Add(name + " client cpu/op", (self_end - self_start) / ops * 1e6);
  }
};

// Everything that talks to one server (kernel or floor) through lattice::client.
struct ClientLoads {
  const ServerProcess* server;
  std::string store;
  const Flags* flags;
  std::string value;

  // Each client connects on its own thread, with its own channel.
  absl::StatusOr<LoadResult> Puts(int clients, const std::string& prefix, CpuMeter* cpu) const {
    LoadOptions load = flags->Load(clients);
    if (cpu) cpu->Attach(load);
    return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
      std::shared_ptr<client::Client> c = OrFailConnect();
      if (!c) return absl::UnavailableError("connect failed");
      auto seq = std::make_shared<uint64_t>(0);
      std::string key_prefix = fmt::format("{}/{:03}/", prefix, index);
      return Operation([c, seq, key_prefix, this]() -> absl::Status {
        return c->Put(store, PaddedKey(fmt::format("{}{:010}", key_prefix, (*seq)++), flags->key_bytes),
                      value).status();
      });
    });
  }

  absl::StatusOr<LoadResult> Batches(int clients, const std::string& prefix, CpuMeter* cpu) const {
    LoadOptions load = flags->Load(clients);
    if (cpu) cpu->Attach(load);
    return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
      std::shared_ptr<client::Client> c = OrFailConnect();
      if (!c) return absl::UnavailableError("connect failed");
      auto request = std::make_shared<v1::BatchRequest>();
      request->set_store(store);
      for (size_t r = 0; r < flags->batch_rows; ++r) request->add_ops()->set_value(value);
      auto seq = std::make_shared<uint64_t>(0);
      std::string key_prefix = fmt::format("{}/{:03}/", prefix, index);
      return Operation([c, seq, request, key_prefix, this]() -> absl::Status {
        for (auto& op : *request->mutable_ops()) {
          op.set_key(PaddedKey(fmt::format("{}{:010}", key_prefix, (*seq)++), flags->key_bytes));
        }
        return c->Batch(*request).status();
      });
    });
  }

  // Gets of keys "get/<n>" for n uniformly in [0, flags->get_keys).
  absl::StatusOr<LoadResult> Gets(int clients, CpuMeter* cpu) const {
    LoadOptions load = flags->Load(clients);
    if (cpu) cpu->Attach(load);
    return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
      std::shared_ptr<client::Client> c = OrFailConnect();
      if (!c) return absl::UnavailableError("connect failed");
      auto state = std::make_shared<uint64_t>(0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1));
      uint64_t keys = std::max<uint64_t>(flags->get_keys, 1);
      return Operation([c, state, keys, this]() -> absl::Status {
        uint64_t& x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        auto reply = c->Get(store, PaddedKey(fmt::format("get/{:010}", x % keys), flags->key_bytes));
        if (!reply.ok()) return reply.status();
        if (!reply->found()) return absl::NotFoundError("a prefilled key was not found");
        return absl::OkStatus();
      });
    });
  }

  std::shared_ptr<client::Client> OrFailConnect() const {
    auto c = server->Connect();
    if (!c.ok()) {
      Note(fmt::format("connect: {}", std::string(c.status().message())));
      return nullptr;
    }
    return std::shared_ptr<client::Client>(std::move(*c));
  }
};

std::vector<std::string> KernelArgs(const Flags& flags, const std::string& data_dir,
                                    const std::string& socket, const std::string& name) {
  return {flags.kernel_binary, "--data-dir", data_dir, "--socket", socket, "--name", name,
          "--log-level", "warn"};
}

// Writes "get/<n>" for n in [0, count) in batches so Get has something to find.
absl::Status PrefillGetKeys(client::Client& c, const std::string& store, const Flags& flags,
                            const std::string& value) {
  constexpr uint64_t kPerBatch = 1000;
  for (uint64_t first = 0; first < flags.get_keys; first += kPerBatch) {
    v1::BatchRequest request;
    request.set_store(store);
    for (uint64_t n = first; n < std::min(flags.get_keys, first + kPerBatch); ++n) {
      auto* op = request.add_ops();
      op->set_key(PaddedKey(fmt::format("get/{:010}", n), flags.key_bytes));
      op->set_value(value);
    }
    LATTICE_RETURN_IF_ERROR(c.Batch(request).status());
  }
  return absl::OkStatus();
}

void DeclareFigures(Results& r, const Flags& flags) {
  std::string many = std::to_string(flags.clients);
  std::string rows = std::to_string(flags.batch_rows);
  DeclareLoad(r, "leveldb sync put 1 thread", "writes/s", "baselines");
  DeclareLoad(r, "leveldb sync put " + many + " threads", "writes/s", "baselines");
  DeclareLoad(r, "leveldb sync batch" + rows + " 1 thread", "rows/s", "baselines");
  r.Declare("ed25519 sign (200 B)", "ops/s", "baselines");
  r.Declare("ed25519 verify (200 B)", "ops/s", "baselines");
  for (const char* op : {"put", "get"}) {
    for (const std::string& n : {std::string("1"), many}) {
      std::string name = fmt::format("floor {} {}c", op, n);
      DeclareLoad(r, name, "calls/s", "gRPC floor (do-nothing Kv on a Unix socket)");
      r.Declare(name + " server cpu/op", "us", "gRPC floor (do-nothing Kv on a Unix socket)");
      r.Declare(name + " client cpu/op", "us", "gRPC floor (do-nothing Kv on a Unix socket)");
    }
  }
  std::vector<std::string> kernel_runs = {"kernel put 1c", "kernel put " + many + "c",
                                          "kernel batch" + rows + " " + many + "c",
                                          "kernel get 1c", "kernel get " + many + "c"};
  for (const auto& name : kernel_runs) {
    bool batch = name.find("batch") != std::string::npos;
    DeclareLoad(r, name, batch ? "rows/s" : "calls/s", "lattice-kernel through its socket");
    r.Declare(name + " server cpu/op", "us", "lattice-kernel through its socket");
    r.Declare(name + " client cpu/op", "us", "lattice-kernel through its socket");
  }
  r.Declare("kernel put->watch event p50", "us", "lattice-kernel through its socket");
  r.Declare("kernel put->watch event p99", "us", "lattice-kernel through its socket");
  DeclareLoad(r, "in-process Store::WriteKv 1 thread", "writes/s", "kernel store without RPC");
  DeclareLoad(r, "in-process Store::WriteKv " + many + " threads", "writes/s",
              "kernel store without RPC");
  r.Declare("in-process Store::WriteKv " + many + " threads cpu/op", "us",
            "kernel store without RPC");

  r.AddRatio({"put 1c / leveldb sync put 1t", "kernel put 1c", "leveldb sync put 1 thread", 0.65});
  r.AddRatio({"put " + many + "c / floor put " + many + "c", "kernel put " + many + "c",
              "floor put " + many + "c", 0.6});
  r.AddRatio({"batch" + rows + " rows " + many + "c / leveldb batch" + rows,
              "kernel batch" + rows + " " + many + "c", "leveldb sync batch" + rows + " 1 thread",
              0.5});
  r.AddRatio({"get " + many + "c / floor get " + many + "c", "kernel get " + many + "c",
              "floor get " + many + "c", 0.8});
  r.AddRatio({"(info) put " + many + "c / leveldb put " + many + "t", "kernel put " + many + "c",
              "leveldb sync put " + many + " threads", NAN});
  r.AddRatio({"(info) put 1c / floor put 1c", "kernel put 1c", "floor put 1c", NAN});
  r.AddRatio({"(info) get 1c / floor get 1c", "kernel get 1c", "floor get 1c", NAN});
  r.AddRatio({"(info) in-process 1t / leveldb sync put 1t", "in-process Store::WriteKv 1 thread",
              "leveldb sync put 1 thread", NAN});
  r.AddRatio({"(info) in-process " + many + "t / floor put " + many + "c",
              "in-process Store::WriteKv " + many + " threads", "floor put " + many + "c", NAN});
}

// One round: every baseline next to the kernel figure it is compared with.
void RunRound(int round, const Flags& flags, Results& r, const ServerProcess* floor,
              const ServerProcess* kernel, const std::string& kernel_store,
              InProcessNode* in_process, const std::string& scratch) {
  const std::string many = std::to_string(flags.clients);
  const std::string rows = std::to_string(flags.batch_rows);
  const std::string value = Filler(flags.value_bytes, 42);
  auto leveldb = [&](int threads, size_t batch_rows) {
    LevelDbBaselineOptions options;
    options.dir = scratch + "/leveldb-baseline";
    options.threads = threads;
    options.rows_per_write = batch_rows;
    options.key_bytes = flags.key_bytes;
    options.value_bytes = flags.value_bytes;
    options.load = flags.Load(threads);
    return OrFail(MeasureLevelDbSyncWrites(options), "LevelDB baseline");
  };
  ClientLoads on_kernel{kernel, kernel_store, &flags, value};
  ClientLoads on_floor{floor, "bench", &flags, value};
  std::string tag = fmt::format("r{}", round);

  auto run_kernel = [&](const std::string& name, auto&& measure, double rows_per_op = 1) {
    if (!kernel || !flags.Runs("kernel")) return;
    CpuMeter cpu{kernel->pid()};
    LoadResult result = OrFail(measure(&cpu), name);
    Record(r, name, result, rows_per_op);
    // Per call (a batch is one call).
    cpu.Record(r, name, result);
    Note(fmt::format("round {}: {} = {:.0f}", round, name, result.rate() * rows_per_op));
  };
  auto run_floor = [&](const std::string& name, auto&& measure) {
    if (!floor) return;
    CpuMeter cpu{floor->pid()};
    LoadResult result = OrFail(measure(&cpu), name);
    Record(r, name, result);
    cpu.Record(r, name, result);
    Note(fmt::format("round {}: {} = {:.0f}", round, name, result.rate()));
  };
  auto run_leveldb = [&](const std::string& name, int threads, size_t batch_rows) {
    if (!flags.Runs("leveldb")) return;
    LoadResult result = leveldb(threads, batch_rows);
    Record(r, name, result, static_cast<double>(batch_rows));
    Note(fmt::format("round {}: {} = {:.0f}", round, name,
                     result.rate() * static_cast<double>(batch_rows)));
  };

  run_leveldb("leveldb sync put 1 thread", 1, 1);
  run_kernel("kernel put 1c", [&](CpuMeter* cpu) { return on_kernel.Puts(1, "put1/" + tag, cpu); });
  run_floor("floor put " + many + "c",
            [&](CpuMeter* cpu) { return on_floor.Puts(flags.clients, "put", cpu); });
  run_kernel("kernel put " + many + "c",
             [&](CpuMeter* cpu) { return on_kernel.Puts(flags.clients, "putN/" + tag, cpu); });
  run_leveldb("leveldb sync batch" + rows + " 1 thread", 1, flags.batch_rows);
  run_kernel("kernel batch" + rows + " " + many + "c",
             [&](CpuMeter* cpu) { return on_kernel.Batches(flags.clients, "batch/" + tag, cpu); },
             static_cast<double>(flags.batch_rows));
  run_floor("floor get 1c", [&](CpuMeter* cpu) { return on_floor.Gets(1, cpu); });
  run_kernel("kernel get 1c", [&](CpuMeter* cpu) { return on_kernel.Gets(1, cpu); });
  run_floor("floor get " + many + "c", [&](CpuMeter* cpu) { return on_floor.Gets(flags.clients, cpu); });
  run_kernel("kernel get " + many + "c",
             [&](CpuMeter* cpu) { return on_kernel.Gets(flags.clients, cpu); });
  run_floor("floor put 1c", [&](CpuMeter* cpu) { return on_floor.Puts(1, "put", cpu); });
  run_leveldb("leveldb sync put " + many + " threads", flags.clients, 1);

  if (flags.Runs("crypto")) {
    auto crypto_duration = milliseconds(static_cast<int64_t>(std::min(flags.duration_s, 1.0) * 1000));
    r.Add("ed25519 sign (200 B)", MeasureEd25519SignRate(crypto_duration));
    r.Add("ed25519 verify (200 B)", MeasureEd25519VerifyRate(crypto_duration));
  }

  if (kernel && flags.Runs("watch")) {
    auto watch = OrFail(MeasureWatchLatency([&] { return kernel->Connect(); }, kernel_store,
                                            flags.value_bytes, milliseconds(flags.warmup_ms),
                                            flags.Load(1).duration),
                        "watch latency");
    std::vector<double> samples = watch.latencies_us;
    r.Add("kernel put->watch event p50", Percentile(samples, 50));
    r.Add("kernel put->watch event p99", Percentile(samples, 99));
    Note(fmt::format("round {}: put->watch p50 {:.0f} us over {} samples ({} lost)", round,
                     Percentile(samples, 50), samples.size(), watch.lost));
  }

  if (in_process) {
    for (int threads : {1, flags.clients}) {
      std::string name = threads == 1 ? "in-process Store::WriteKv 1 thread"
                                      : "in-process Store::WriteKv " + many + " threads";
      CpuMeter cpu;  // this process only: the writer thread and the callers
      LoadOptions load = flags.Load(threads);
      cpu.Attach(load);
      LoadResult result = OrFail(in_process->MeasureWrites(load, flags.value_bytes,
                                                           fmt::format("w{}/{}", threads, tag)),
                                 name);
      Record(r, name, result);
      if (threads != 1 && result.ops > 0) {
        r.Add(name + " cpu/op", (cpu.self_end - cpu.self_start) / static_cast<double>(result.ops) * 1e6);
      }
      Note(fmt::format("round {}: {} = {:.0f}", round, name, result.rate()));
    }
  }
}

// Fills a store to each size in turn and measures the real kernel's start-up on it.
void RunStartup(const Flags& flags, Results& r, const std::string& dir) {
  const std::string data_dir = dir + "/data";
  const std::string socket = dir + "/kernel.sock";
  const std::string node_name = "bench-startup";
  std::vector<uint64_t> sizes = flags.startup_sizes;
  std::sort(sizes.begin(), sizes.end());
  for (uint64_t size : sizes) {
    std::string label = fmt::format("{}k", size / 1000);
    r.Declare("startup " + label + ": fill", "intentions/s", "start-up");
    r.Declare("startup " + label + ": first start after fill", "ms", "start-up");
    r.Declare("startup " + label + ": start", "ms", "start-up");
    r.Declare("startup " + label + ": VmRSS at ready", "MiB", "start-up");
    r.Declare("startup " + label + ": VmRSS 1 s later", "MiB", "start-up");
    r.Declare("startup " + label + ": VmHWM", "MiB", "start-up");
    r.Declare("startup " + label + ": store on disk", "MiB", "start-up");
  }
  for (uint64_t size : sizes) {
    std::string label = fmt::format("{}k", size / 1000);
    {
      auto node = OrFail(InProcessNode::Open(data_dir, node_name, "bench"), "open in-process node");
      uint64_t before = node->store().last_witness();
      Note(fmt::format("startup: filling store to {} intentions (has {}), {} writers", size,
                       before, flags.fill_threads));
      auto started = std::chrono::steady_clock::now();
      absl::Status filled = node->FillTo(size, flags.fill_threads, flags.value_bytes,
                                         [](uint64_t n) { Note(fmt::format("startup: {} intentions", n)); });
      if (!filled.ok()) Fail("fill", filled);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (size > before) {
        r.Add("startup " + label + ": fill", static_cast<double>(size - before) / seconds);
      }
    }
    uint64_t disk = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir)) {
      if (entry.is_regular_file()) disk += entry.file_size();
    }
    r.Add("startup " + label + ": store on disk", static_cast<double>(disk) / (1 << 20));

    ServerOptions options;
    options.argv = KernelArgs(flags, data_dir, socket, node_name);
    options.socket = socket;
    options.log_path = dir + "/kernel.log";
    options.ready_deadline = milliseconds(300'000);
    for (int start = 0; start <= flags.startup_restarts; ++start) {
      auto kernel = OrFail(ServerProcess::Start(options, /*check_status=*/true), "start kernel");
      double ms = kernel->startup_time().count() * 1000;
      double rss = static_cast<double>(kernel->ResidentBytes().value_or(0)) / (1 << 20);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      double rss_later = static_cast<double>(kernel->ResidentBytes().value_or(0)) / (1 << 20);
      double hwm = static_cast<double>(kernel->PeakResidentBytes().value_or(0)) / (1 << 20);
      auto status = OrFail(OrFail(kernel->Connect(), "connect")->NodeStatus(), "status");
      uint64_t intentions = 0;
      for (const auto& store : status.stores()) {
        if (store.name() == "bench") intentions = store.intentions();
      }
      if (intentions != size) {
        Fail("startup", absl::InternalError(fmt::format(
                            "the kernel reports {} intentions in the store, expected {}", intentions, size)));
      }
      absl::Status stopped = kernel->Stop();
      if (!stopped.ok()) Fail("stop kernel", stopped);
      Note(fmt::format("startup {}: {} {:.1f} ms, VmRSS {:.1f} MiB (1 s later {:.1f}), VmHWM {:.1f}",
                       label, start == 0 ? "first start" : "start", ms, rss, rss_later, hwm));
      if (start == 0) {
        r.Add("startup " + label + ": first start after fill", ms);
        continue;
      }
      r.Add("startup " + label + ": start", ms);
      r.Add("startup " + label + ": VmRSS at ready", rss);
      r.Add("startup " + label + ": VmRSS 1 s later", rss_later);
      r.Add("startup " + label + ": VmHWM", hwm);
    }
  }
  if (sizes.size() >= 2) {
    std::string small = fmt::format("{}k", sizes.front() / 1000);
    std::string large = fmt::format("{}k", sizes.back() / 1000);
    for (const char* figure : {"start", "first start after fill", "VmRSS at ready",
                               "VmRSS 1 s later", "VmHWM"}) {
      r.AddRatio({fmt::format("startup {} {} / {}", figure, large, small),
                  fmt::format("startup {}: {}", large, figure),
                  fmt::format("startup {}: {}", small, figure), 1.5, /*at_most=*/true});
    }
  }
}

int Main(int argc, char** argv) {
  Flags flags;
  std::string only;
  std::string startup_sizes;
  CLI::App app{"lattice-kernel-bench: the single-node kernel against this machine's own baselines"};
  app.add_option("--duration", flags.duration_s, "measured seconds per figure")->capture_default_str();
  app.add_option("--warmup-ms", flags.warmup_ms, "uncounted warm-up before each figure")->capture_default_str();
  app.add_option("--rounds", flags.rounds, "rounds; figures are medians over them")->capture_default_str();
  app.add_option("--clients", flags.clients, "the 'many clients' count")->capture_default_str();
  app.add_option("--value-bytes", flags.value_bytes, "value size of every write")->capture_default_str();
  app.add_option("--key-bytes", flags.key_bytes, "key size (keys are padded to it)")->capture_default_str();
  app.add_option("--batch-rows", flags.batch_rows, "rows per Batch call and per LevelDB batch")->capture_default_str();
  app.add_option("--get-keys", flags.get_keys, "keys written before the Get figures")->capture_default_str();
  app.add_option("--work-dir", flags.work_dir, "where the temporary directory is made (same disk as a real data directory)")->capture_default_str();
  app.add_flag("--keep", flags.keep, "keep the temporary directory");
  app.add_option("--only", only, "comma list of sections: leveldb,crypto,floor,kernel,watch,inprocess (default: all)");
  app.add_option("--startup-sizes", startup_sizes, "comma list of store sizes in intentions for the start-up figures, e.g. 100000,1000000 (default: none)");
  app.add_option("--startup-restarts", flags.startup_restarts, "measured starts per size")->capture_default_str();
  app.add_option("--fill-threads", flags.fill_threads, "writers filling the start-up store")->capture_default_str();
  app.add_option("--kernel", flags.kernel_binary, "lattice-kernel binary")->capture_default_str();
  app.add_option("--floor", flags.floor_binary, "lattice-bench-floor binary")->capture_default_str();
  app.add_option("--json", flags.json_path, "also write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);
  for (const auto& section : SplitList(only)) {
    if (kSections.count(section) == 0) {
      fmt::print(stderr, "lattice-kernel-bench: unknown section \"{}\"\n", section);
      return 2;
    }
    flags.only.push_back(section);
  }
  for (const auto& size : SplitList(startup_sizes)) {
    try {
      flags.startup_sizes.push_back(std::stoull(size));
    } catch (const std::exception&) {
      fmt::print(stderr, "lattice-kernel-bench: --startup-sizes: \"{}\" is not a count\n", size);
      return 2;
    }
  }

  InitCrypto();
  spdlog::set_level(spdlog::level::warn);
  ::signal(SIGPIPE, SIG_IGN);

  std::string pattern = flags.work_dir + "/lattice-bench-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    Fail("mkdtemp", absl::UnavailableError(pattern + ": " + std::strerror(errno)));
  }
  const std::string dir = buffer.data();
  Note(fmt::format("working in {}", dir));

  Results results;
  DeclareFigures(results, flags);

  if (flags.rounds > 0) {
    std::unique_ptr<ServerProcess> floor, kernel;
    std::string kernel_store;
    if (flags.Runs("floor")) {
      std::filesystem::create_directories(dir + "/floor");
      ServerOptions options;
      options.argv = {flags.floor_binary, "--socket", dir + "/floor/floor.sock", "--value-bytes",
                      std::to_string(flags.value_bytes)};
      options.socket = dir + "/floor/floor.sock";
      options.token = "floor";
      options.log_path = dir + "/floor/floor.log";
      floor = OrFail(ServerProcess::Start(options, /*check_status=*/false), "start the floor");
    }
    if (flags.Runs("kernel") || flags.Runs("watch")) {
      std::filesystem::create_directories(dir + "/kernel");
      ServerOptions options;
      options.argv = KernelArgs(flags, dir + "/kernel/data", dir + "/kernel/kernel.sock", "bench");
      options.socket = dir + "/kernel/kernel.sock";
      options.log_path = dir + "/kernel/kernel.log";
      kernel = OrFail(ServerProcess::Start(options, /*check_status=*/true), "start the kernel");
      Note(fmt::format("kernel up in {:.0f} ms", kernel->startup_time().count() * 1000));
      auto admin = OrFail(kernel->Connect(), "connect to the kernel");
      auto store = OrFail(admin->CreateStore("bench", "kv"), "create the bench store");
      kernel_store = store.id();
      absl::Status prefilled = PrefillGetKeys(*admin, kernel_store, flags, Filler(flags.value_bytes, 42));
      if (!prefilled.ok()) Fail("prefill", prefilled);
    }
    std::unique_ptr<InProcessNode> in_process;
    if (flags.Runs("inprocess")) {
      in_process = OrFail(InProcessNode::Open(dir + "/inprocess", "bench-inprocess", "bench"),
                          "open in-process node");
    }
    for (int round = 1; round <= flags.rounds; ++round) {
      RunRound(round, flags, results, floor.get(), kernel.get(), kernel_store, in_process.get(), dir);
    }
    if (kernel) {
      absl::Status stopped = kernel->Stop();
      if (!stopped.ok()) Note("kernel stop: " + std::string(stopped.message()));
    }
  }
  if (!flags.startup_sizes.empty()) {
    std::filesystem::create_directories(dir + "/startup");
    RunStartup(flags, results, dir + "/startup");
  }

  results.Print(stdout);
  std::fflush(stdout);
  if (!flags.json_path.empty()) {
    std::ofstream out(flags.json_path);
    out << results.ToJson().dump(2) << "\n";
  }
  if (!flags.keep) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  } else {
    Note("kept " + dir);
  }
  return 0;
}

}  // namespace
}  // namespace lattice::bench

int main(int argc, char** argv) { return lattice::bench::Main(argc, argv); }
