// lattice-services-bench: how fast the ServiceManager acts, with real kernels supervising the
// real lattice-irc on loopback, and what supervision costs the kernel.
//   1. consent change on this node -> the gateway accepts TCP connections
//   2. declaration written on another node -> the gateway accepts (replication included)
//   3. kill -9 of the gateway -> its replacement accepts (the first backoff, 0.5 s in the
//      shipped descriptor, is part of it)
//   4. kernel CPU and resident memory over an idle window, with 20 supervised idle
//      gateways and with none
// Each latency is measured `--rounds` times; p50 and p99 are printed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "cpu_time.h"
#include "lattice/client.h"
#include "peer_kernels.h"
#include "server_process.h"

using namespace lattice;
using namespace lattice::bench;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kGateway[] = "lattice.irc-gateway";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Polls `condition` every millisecond; the time it took, or a negative duration at `timeout`.
double SecondsUntil(const std::function<bool()>& condition, Clock::time_point since,
                    std::chrono::seconds timeout = std::chrono::seconds(60)) {
  while (!condition()) {
    if (Clock::now() - since > timeout) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the polling interval
  }
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void PrintPercentiles(const char* what, std::vector<double> seconds) {
  if (seconds.empty()) {
    std::printf("%-58s no samples\n", what);
    return;
  }
  std::sort(seconds.begin(), seconds.end());
  auto at = [&](double q) { return seconds[std::min(seconds.size() - 1, static_cast<size_t>(q * seconds.size()))]; };
  std::printf("%-58s p50 %7.1f ms  p99 %7.1f ms  (n=%zu)\n", what, at(0.5) * 1e3, at(0.99) * 1e3,
              seconds.size());
  std::fflush(stdout);
}

template <typename T>
T Must(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(value.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(value);
}

void Must(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
    std::exit(1);
  }
}

v1::DeclareServiceRequest Declaration(const std::string& store, const std::string& policy, int port,
                                      bool local = false) {
  v1::DeclareServiceRequest request;
  request.set_service_id(kGateway);
  request.set_store(store);
  request.set_policy(policy);
  request.set_local(local);
  auto* setting = request.add_settings();
  setting->set_name("port");
  setting->set_value(std::to_string(port));
  return request;
}

int InstancePid(client::Client& kernel, const std::string& store_id) {
  auto list = kernel.ListServices();
  if (!list.ok()) return 0;
  for (const auto& i : list->instances()) {
    if (i.store_id() == store_id && i.status() == "running") return i.pid();
  }
  return 0;
}

void LocalConsentLatency(const std::string& root, int rounds) {
  auto kernel = Must(StartPeerKernel({LATTICE_KERNEL_BINARY, root + "/consent", "", "bench", 0}), "kernel");
  auto client = Must(kernel->Connect(), "connect");
  auto store = Must(client->CreateStore("lobby", "chat"), "store");
  int port = FreePort();
  Must(client->DeclareService(Declaration("lobby", "Global", port)).status(), "declare");
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    Must(client->SetServiceConsent(kGateway, "follow-mesh").status(), "consent");
    double took = SecondsUntil([&] { return Accepts(port); }, start);
    if (took >= 0) samples.push_back(took);
    Must(client->SetServiceConsent(kGateway, "block").status(), "block");
    SecondsUntil([&] { return !Accepts(port); }, Clock::now());
  }
  PrintPercentiles("consent follow-mesh (local) -> gateway accepts", samples);

  // Crash to replacement: the shipped backoff starts at 0.5 s; reset between rounds so each
  // crash is a first one.
  Must(client->SetServiceConsent(kGateway, "follow-mesh").status(), "consent");
  SecondsUntil([&] { return Accepts(port); }, Clock::now());
  samples.clear();
  for (int i = 0; i < rounds; ++i) {
    int pid = 0;
    SecondsUntil([&] { return (pid = InstancePid(*client, store.id())) > 0; }, Clock::now());
    auto start = Clock::now();
    ::kill(pid, SIGKILL);
    // The old process is gone once the port refuses; then wait for the replacement.
    SecondsUntil([&] { return !Accepts(port) || InstancePid(*client, store.id()) != pid; }, start);
    double took = SecondsUntil([&] { return InstancePid(*client, store.id()) != pid && Accepts(port); }, start);
    if (took >= 0) samples.push_back(took);
    Must(client->ControlService(kGateway, store.id(), "reset").status(), "reset");
  }
  PrintPercentiles("kill -9 gateway -> replacement accepts", samples);
  (void)kernel->Stop();
}

void RemoteDeclarationLatency(const std::string& root, int rounds) {
  std::string prefix = RunLoopbackPrefix();
  auto a = Must(StartPeerKernel({LATTICE_KERNEL_BINARY, root + "/a", prefix + ".10", "a", 500}), "kernel a");
  auto b = Must(StartPeerKernel({LATTICE_KERNEL_BINARY, root + "/b", prefix + ".11", "b", 500}), "kernel b");
  auto ca = Must(a->Connect(), "connect a");
  auto cb = Must(b->Connect(), "connect b");
  Must(JoinMeshOf(*ca, *cb, "b"), "join");
  auto store = Must(ca->CreateStore("lobby", "chat"), "store");
  Must(cb->SetServiceConsent(kGateway, "follow-mesh", store.mesh_id()).status(), "consent on b");
  // b must know the store before the first round.
  SecondsUntil([&] { return cb->OpenStore(store.id()).ok(); }, Clock::now());
  int port = FreePort();
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    Must(ca->DeclareService(Declaration(store.id(), "Global", port)).status(), "declare on a");
    double took = SecondsUntil([&] { return Accepts(port); }, start);
    if (took >= 0) samples.push_back(took);
    v1::UndeclareServiceRequest undeclare;
    undeclare.set_service_id(kGateway);
    undeclare.set_store(store.id());
    Must(ca->UndeclareService(undeclare).status(), "undeclare on a");
    SecondsUntil([&] { return !Accepts(port); }, Clock::now());
  }
  PrintPercentiles("declaration written on another node -> gateway accepts", samples);
  (void)b->Stop();
  (void)a->Stop();
}

struct Footprint {
  double cpu_percent = 0;
  uint64_t rss = 0;
};

Footprint Measure(ServerProcess& kernel, int idle_seconds) {
  double before = Must(ProcessCpuSeconds(kernel.pid()), "cpu");
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));  // the idle window measured
  double after = Must(ProcessCpuSeconds(kernel.pid()), "cpu");
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  return {100.0 * (after - before) / wall, Must(kernel.ResidentBytes(), "rss")};
}

void IdleFootprint(const std::string& root, int instances, int idle_seconds) {
  auto kernel = Must(StartPeerKernel({LATTICE_KERNEL_BINARY, root + "/idle", "", "idle", 0}), "kernel");
  auto client = Must(kernel->Connect(), "connect");
  std::vector<std::string> stores;
  for (int i = 0; i < instances; ++i) {
    stores.push_back(Must(client->CreateStore("room" + std::to_string(i), "chat"), "store").id());
  }
  Footprint none = Measure(*kernel, idle_seconds);
  for (const auto& store : stores) {
    Must(client->DeclareService(Declaration(store, "", 0, /*local=*/true)).status(), "declare");
  }
  std::vector<int> pids;
  SecondsUntil([&] {
    auto list = client->ListServices();
    if (!list.ok()) return false;
    pids.clear();
    for (const auto& i : list->instances()) {
      if (i.status() == "running") pids.push_back(i.pid());
    }
    return static_cast<int>(pids.size()) == instances;
  }, Clock::now());
  Footprint busy = Measure(*kernel, idle_seconds);
  uint64_t daemons_rss = 0;
  for (int pid : pids) {
    std::FILE* status = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
    if (status == nullptr) continue;
    char line[256];
    while (std::fgets(line, sizeof line, status)) {
      unsigned long kb = 0;
      if (std::sscanf(line, "VmRSS: %lu kB", &kb) == 1) daemons_rss += kb * 1024;
    }
    std::fclose(status);
  }
  std::printf("kernel idle, no instances:          CPU %5.2f%%  RSS %6.1f MiB\n", none.cpu_percent,
              none.rss / 1048576.0);
  std::printf("kernel idle, %2zu supervised gateways: CPU %5.2f%%  RSS %6.1f MiB  (the %zu gateways: %.1f MiB)\n",
              pids.size(), busy.cpu_percent, busy.rss / 1048576.0, pids.size(), daemons_rss / 1048576.0);
  std::fflush(stdout);
  (void)kernel->Stop();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  int idle_seconds = 10;
  int instances = 20;
  CLI::App app{"lattice-services-bench: ServiceManager latencies and supervision cost"};
  app.add_option("--rounds", rounds, "samples per latency")->check(CLI::Range(1, 10000));
  app.add_option("--idle-seconds", idle_seconds, "length of each idle window")->check(CLI::Range(1, 600));
  app.add_option("--instances", instances, "idle gateways to supervise")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  std::string root = (std::filesystem::temp_directory_path() / ("lattice-services-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(root);
  LocalConsentLatency(root, rounds);
  RemoteDeclarationLatency(root, rounds);
  IdleFootprint(root, instances, idle_seconds);
  std::filesystem::remove_all(root);
  return 0;
}
