// What writes acknowledged once applied buy (DESIGN.md §4): puts per second from one client
// through a real kernel's socket, acknowledged SYNCED (one fsync per group) against APPLIED
// (no fsync; the kernel syncs within a second), the APPLIED run ending with a Kv.Sync so both
// leave every write durable. Prints both figures and their ratio.
//   build-*/bench/lattice-durability-bench [--seconds S] [--value-bytes N]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "server_process.h"

namespace lattice::bench {
namespace {

struct Figure {
  uint64_t puts = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? puts / seconds : 0; }
};

absl::StatusOr<Figure> RunPuts(client::Client& client, const std::string& store,
                               v1::Durability durability, double seconds, size_t value_bytes,
                               const std::string& prefix) {
  using Clock = std::chrono::steady_clock;
  const std::string value(value_bytes, 'v');
  Figure figure;
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    auto put = client.Put(store, fmt::format("{}/{}", prefix, figure.puts), value, durability);
    if (!put.ok()) return put.status();
    ++figure.puts;
  }
  if (durability == v1::DURABILITY_APPLIED) {
    auto synced = client.SyncKv(store);  // the same guarantee at the end as SYNCED gives
    if (!synced.ok()) return synced.status();
  }
  figure.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return figure;
}

int Main(int argc, char** argv) {
  CLI::App app{"puts/s acknowledged SYNCED vs APPLIED, one client, a real kernel"};
  double seconds = 3;
  size_t value_bytes = 100;
  std::string dir = std::filesystem::temp_directory_path() / "lattice-durability-bench";
  app.add_option("--seconds", seconds, "length of each run");
  app.add_option("--value-bytes", value_bytes, "size of each value");
  app.add_option("--dir", dir, "scratch directory (its contents are removed)");
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ServerOptions options;
  options.socket = dir + "/kernel.sock";
  options.log_path = dir + "/kernel.log";
  options.argv = KernelArgv(LATTICE_KERNEL_BINARY, dir + "/data", options.socket, "bench");
  auto kernel = ServerProcess::Start(options, /*check_status=*/true);
  if (!kernel.ok()) {
    std::fprintf(stderr, "kernel did not start: %s\n", std::string(kernel.status().message()).c_str());
    return 1;
  }
  auto client = (*kernel)->Connect();
  if (!client.ok() || !(*client)->CreateStore("bench", "kv").ok()) {
    std::fprintf(stderr, "cannot create the store\n");
    return 1;
  }
  // A short warm-up of each, then the measured runs.
  (void)RunPuts(**client, "bench", v1::DURABILITY_SYNCED, 0.3, value_bytes, "warm-s");
  (void)RunPuts(**client, "bench", v1::DURABILITY_APPLIED, 0.3, value_bytes, "warm-a");
  auto synced = RunPuts(**client, "bench", v1::DURABILITY_SYNCED, seconds, value_bytes, "s");
  auto applied = RunPuts(**client, "bench", v1::DURABILITY_APPLIED, seconds, value_bytes, "a");
  if (!synced.ok() || !applied.ok()) {
    std::fprintf(stderr, "puts failed: %s\n",
                 std::string((!synced.ok() ? synced.status() : applied.status()).message()).c_str());
    return 1;
  }
  std::printf("put 1c SYNCED   %10.0f puts/s  (%llu in %.2f s)\n", synced->rate(),
              static_cast<unsigned long long>(synced->puts), synced->seconds);
  std::printf("put 1c APPLIED  %10.0f puts/s  (%llu in %.2f s, ending with Kv.Sync)\n",
              applied->rate(), static_cast<unsigned long long>(applied->puts), applied->seconds);
  std::printf("APPLIED / SYNCED  %.1fx\n", synced->rate() > 0 ? applied->rate() / synced->rate() : 0);
  (void)(*kernel)->Stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace lattice::bench

int main(int argc, char** argv) { return lattice::bench::Main(argc, argv); }
