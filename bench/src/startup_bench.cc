#include "startup_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "in_process_node.h"
#include "lattice/common/status.h"
#include "progress.h"
#include "server_process.h"

namespace lattice::bench {
namespace {

constexpr char kNodeName[] = "bench-startup";
constexpr char kStoreName[] = "bench";

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

std::string Label(uint64_t size) {
  return size % 1000 == 0 ? fmt::format("{}k", size / 1000) : std::to_string(size);
}

std::string Figure(uint64_t size, const std::string& what) {
  return fmt::format("startup {}: {}", Label(size), what);
}

uint64_t BytesOnDisk(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ignored)) {
    if (entry.is_regular_file(ignored)) total += entry.file_size(ignored);
  }
  return total;
}

absl::Status Fill(const BenchOptions& options, const std::string& data_dir, uint64_t size,
                  Results& results) {
  LATTICE_ASSIGN_OR_RETURN(auto node, InProcessNode::Open(data_dir, kNodeName, kStoreName));
  uint64_t before = node->store().last_witness();
  Progress(fmt::format("startup: filling the store to {} intentions (it has {}) with {} writers",
                   size, before, options.fill_threads));
  auto started = std::chrono::steady_clock::now();
  LATTICE_RETURN_IF_ERROR(node->FillTo(size, options.fill_threads, options.value_bytes,
                                       [](uint64_t n) { Progress(fmt::format("startup: {} intentions", n)); }));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (size > before) results.Add(Figure(size, "fill"), static_cast<double>(size - before) / seconds);
  return absl::OkStatus();
}

// Starts the kernel, takes its figures, checks its count and stops it.
absl::Status MeasureOneStart(const ServerOptions& server_options, uint64_t size, bool first,
                             Results& results) {
  LATTICE_ASSIGN_OR_RETURN(auto kernel, ServerProcess::Start(server_options, /*check_status=*/true));
  double ms = kernel->startup_time().count() * 1000;
  double rss = MiB(kernel->ResidentBytes().value_or(0));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double rss_later = MiB(kernel->ResidentBytes().value_or(0));
  double hwm = MiB(kernel->PeakResidentBytes().value_or(0));
  LATTICE_ASSIGN_OR_RETURN(auto admin, kernel->Connect());
  LATTICE_ASSIGN_OR_RETURN(auto status, admin->NodeStatus());
  uint64_t intentions = 0;
  for (const auto& store : status.stores()) {
    if (store.name() == kStoreName) intentions = store.intentions();
  }
  if (intentions != size) {
    return absl::InternalError(fmt::format(
        "the kernel reports {} intentions in the store, the fill wrote {}", intentions, size));
  }
  LATTICE_RETURN_IF_ERROR(kernel->Stop());
  Progress(fmt::format("startup {}: {} {:.1f} ms, VmRSS {:.1f} MiB (1 s later {:.1f}), VmHWM {:.1f}",
                   Label(size), first ? "first start" : "start", ms, rss, rss_later, hwm));
  if (first) {
    results.Add(Figure(size, "first start after fill"), ms);
    return absl::OkStatus();
  }
  results.Add(Figure(size, "start"), ms);
  results.Add(Figure(size, "VmRSS at ready"), rss);
  results.Add(Figure(size, "VmRSS 1 s later"), rss_later);
  results.Add(Figure(size, "VmHWM"), hwm);
  return absl::OkStatus();
}

}  // namespace

absl::Status MeasureStartup(const BenchOptions& options, const std::string& dir,
                            Results& results) {
  std::vector<uint64_t> sizes = options.startup_sizes;
  std::sort(sizes.begin(), sizes.end());
  if (sizes.empty()) return absl::OkStatus();
  const std::string data_dir = dir + "/data";
  for (uint64_t size : sizes) {
    results.Declare(Figure(size, "fill"), "intentions/s", "start-up");
    results.Declare(Figure(size, "first start after fill"), "ms", "start-up");
    results.Declare(Figure(size, "start"), "ms", "start-up");
    results.Declare(Figure(size, "VmRSS at ready"), "MiB", "start-up");
    results.Declare(Figure(size, "VmRSS 1 s later"), "MiB", "start-up");
    results.Declare(Figure(size, "VmHWM"), "MiB", "start-up");
    results.Declare(Figure(size, "data directory on disk"), "MiB", "start-up");
  }
  ServerOptions server_options;
  server_options.argv = KernelArgv(options.kernel_binary, data_dir, dir + "/kernel.sock", kNodeName);
  server_options.socket = dir + "/kernel.sock";
  server_options.log_path = dir + "/kernel.log";
  server_options.ready_deadline = std::chrono::minutes(5);

  for (uint64_t size : sizes) {
    LATTICE_RETURN_IF_ERROR(Fill(options, data_dir, size, results));
    results.Add(Figure(size, "data directory on disk"), MiB(BytesOnDisk(data_dir)));
    for (int start = 0; start <= options.startup_restarts; ++start) {
      LATTICE_RETURN_IF_ERROR(MeasureOneStart(server_options, size, start == 0, results));
    }
  }
  if (sizes.size() >= 2) {
    for (const char* figure : {"start", "first start after fill", "VmRSS at ready",
                               "VmRSS 1 s later", "VmHWM"}) {
      results.AddRatio({fmt::format("startup {} {} / {}", figure, Label(sizes.back()),
                                    Label(sizes.front())),
                        Figure(sizes.back(), figure), Figure(sizes.front(), figure), 1.5,
                        /*at_most=*/true});
    }
  }
  return absl::OkStatus();
}

}  // namespace lattice::bench
