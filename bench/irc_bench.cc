// irc_bench: figures for lattice-irc. Starts real lattice-kernels and lattice-irc gateways in
// a temporary directory (kernels listen for peers on 127.0.0.1 only) and measures:
//   1. fan-out: N IRC clients (default 200) in one channel of one gateway; S of them post M
//      messages as fast as the gateway takes them; every client receives every message;
//      messages posted per second and lines delivered per second, with the gateway's CPU
//      time and memory (from /proc) over the run;
//   2. latency on one node: one client posts, another of the same gateway waits for the
//      line, one message at a time; p50/p90/p99 of send-to-receive time;
//   3. latency across two nodes: a second kernel joins the first one's mesh (invite, join,
//      bootstrap of the chat store), a gateway runs on it, and a client on each gateway
//      talks in a channel of its own: p50/p90/p99 from a post on one node to its line on
//      the other, in both directions.
// The machine's load average is printed at the start and the end: on a shared machine the
// figures move with it.
// Usage: irc_bench [--clients N] [--senders S] [--messages M] [--samples L]
//                  [--kernel PATH] [--irc PATH] [--no-mesh]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lattice/client.h"

#ifndef LATTICE_KERNEL_BINARY
#define LATTICE_KERNEL_BINARY "lattice-kernel"
#endif
#ifndef LATTICE_IRC_BINARY
#define LATTICE_IRC_BINARY "lattice-irc"
#endif

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "irc_bench: %s\n", why.c_str());
  std::exit(1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            int* stdout_fd, const std::string& log_path) {
  int out[2] = {-1, -1};
  if (stdout_fd != nullptr && ::pipe(out) != 0) Die("pipe");
  pid_t pid = ::fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(log, 2);
    ::dup2(stdout_fd != nullptr ? out[1] : log, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (stdout_fd != nullptr) {
    ::close(out[1]);
    *stdout_fd = out[0];
  }
  return pid;
}

// utime + stime of `pid`, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// VmRSS and VmHWM of `pid`, in KiB.
std::pair<long, long> MemoryKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long rss = 0, hwm = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stol(line.substr(6));
  }
  return {rss, hwm};
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

struct BenchClient {
  int fd = -1;
  std::string nick;
  std::string in;
  std::string out;
  bool joined = false;
  uint64_t received = 0;  // channel lines
  std::function<void(const std::string&)> on_line;
};

class Clients {
 public:
  Clients() : epoll_(::epoll_create1(0)) {}

  BenchClient& Add(const std::string& nick, int port) {
    auto client = std::make_unique<BenchClient>();
    client->nick = nick;
    client->fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(client->fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      Die("connect: " + std::string(std::strerror(errno)));
    }
    int one = 1;
    ::setsockopt(client->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(client->fd, F_SETFL, O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = clients_.size();
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, client->fd, &event);
    clients_.push_back(std::move(client));
    return *clients_.back();
  }

  void Send(BenchClient& client, const std::string& line) {
    client.out += line + "\r\n";
    Flush(client);
  }

  // Handles input for up to `wait`; returns when `done` holds or the deadline passes.
  bool PumpUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
    auto end = Clock::now() + deadline;
    epoll_event events[256];
    while (!done()) {
      if (Clock::now() > end) return false;
      int n = ::epoll_wait(epoll_, events, 256, 50);
      for (int i = 0; i < n; ++i) {
        uint64_t index = events[i].data.u64;  // epoll_event is packed: copy, do not bind
        Read(*clients_[index]);
      }
      for (auto& client : clients_) {
        if (!client->out.empty()) Flush(*client);
      }
    }
    return true;
  }

  std::vector<std::unique_ptr<BenchClient>>& all() { return clients_; }

 private:
  void Flush(BenchClient& client) {
    while (!client.out.empty()) {
      ssize_t n = ::send(client.fd, client.out.data(), client.out.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      client.out.erase(0, static_cast<size_t>(n));
    }
  }

  void Read(BenchClient& client) {
    char buffer[65536];
    while (true) {
      ssize_t n = ::read(client.fd, buffer, sizeof buffer);
      if (n <= 0) break;
      client.in.append(buffer, static_cast<size_t>(n));
    }
    size_t pos = 0;
    while (true) {
      size_t end = client.in.find("\r\n", pos);
      if (end == std::string::npos) break;
      std::string line = client.in.substr(pos, end - pos);
      pos = end + 2;
      if (line.rfind("PING ", 0) == 0) Send(client, "PONG " + line.substr(5));
      if (line.find(" 366 ") != std::string::npos) client.joined = true;
      if (line.find(" PRIVMSG #") != std::string::npos) {
        if (line.find(" PRIVMSG #bench :") != std::string::npos) ++client.received;
        if (client.on_line) client.on_line(line);
      }
      if (line.rfind("ERROR", 0) == 0) Die(client.nick + " was disconnected: " + line);
    }
    client.in.erase(0, pos);
  }

  int epoll_;
  std::vector<std::unique_ptr<BenchClient>> clients_;
};

struct Kernel {
  pid_t pid = -1;
  std::string dir;
  std::string socket;
  std::unique_ptr<lattice::client::Client> admin;
};

// A kernel on `dir`, listening for peers on 127.0.0.1 (an ephemeral port), with an admin
// client once it answers.
Kernel StartKernel(const std::string& binary, const std::string& dir, const std::string& name) {
  Kernel kernel;
  kernel.dir = dir;
  kernel.socket = dir + "/kernel.sock";
  std::filesystem::create_directories(dir);
  kernel.pid = Spawn({binary, "--data-dir", dir + "/data", "--socket", kernel.socket, "--name",
                      name, "--listen", "127.0.0.1:0", "--log-level", "warn"},
                     {}, nullptr, dir + "/kernel.log");
  lattice::client::ClientOptions options;
  options.socket_path = kernel.socket;
  for (int attempt = 0; attempt < 600 && !kernel.admin; ++attempt) {
    auto connected = lattice::client::Client::Connect(options);
    if (connected.ok() && (*connected)->NodeStatus().ok()) {
      kernel.admin = std::move(*connected);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (!kernel.admin) Die("kernel " + name + " did not start; see " + dir + "/kernel.log");
  return kernel;
}

std::string IrcToken(lattice::client::Client& admin, const std::string& store) {
  lattice::v1::CreateTokenRequest request;
  request.set_name("irc");
  request.add_stores(store);
  for (const char* right : {"read", "write", "watch"}) request.add_rights(right);
  auto token = admin.CreateToken(request);
  if (!token.ok()) Die("cannot create a token: " + std::string(token.status().message()));
  return token->token();
}

struct Gateway {
  pid_t pid = -1;
  int port = 0;
};

Gateway StartGateway(const std::string& binary, const Kernel& kernel, const std::string& store,
                     const std::string& token, const std::string& log) {
  Gateway gateway;
  int irc_stdout = -1;
  gateway.pid = Spawn(
      {binary, "--store", store, "--socket", kernel.socket, "--listen", "127.0.0.1:0",
       "--history", "0", "--flood-burst", "100000", "--flood-rate", "100000", "--log-level",
       "warn"},
      {"LATTICE_TOKEN=" + token}, &irc_stdout, log);
  std::string first_line;
  char c;
  while (::read(irc_stdout, &c, 1) == 1 && c != '\n') first_line.push_back(c);
  ::close(irc_stdout);
  size_t colon = first_line.rfind(':');
  if (colon == std::string::npos) Die("lattice-irc did not start; see " + log);
  gateway.port = std::atoi(first_line.c_str() + colon + 1);
  return gateway;
}

void Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

struct Percentiles {
  double p50, p90, p99, max;
};

Percentiles Summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) {
    return samples[std::min(samples.size() - 1,
                            static_cast<size_t>(p * static_cast<double>(samples.size())))];
  };
  return {pct(0.50), pct(0.90), pct(0.99), samples.back()};
}

// Send-to-receive times in ms of `samples` lines posted by `from` to `channel`, one at a
// time, each waited for at `to`.
std::vector<double> MeasureLatency(Clients& clients, BenchClient& from, BenchClient& to,
                                   const std::string& channel, int samples,
                                   const std::string& tag) {
  std::vector<double> latencies;
  for (int i = 0; i < samples; ++i) {
    std::string marker = tag + " " + std::to_string(i);
    bool seen = false;
    to.on_line = [&](const std::string& line) {
      if (line.size() >= marker.size() &&
          line.compare(line.size() - marker.size(), marker.size(), marker) == 0) {
        seen = true;
      }
    };
    auto sent = Clock::now();
    clients.Send(from, "PRIVMSG " + channel + " :" + marker);
    if (!clients.PumpUntil([&] { return seen; }, std::chrono::seconds(30))) {
      Die("latency sample lost: " + marker);
    }
    latencies.push_back(Seconds(Clock::now() - sent) * 1000.0);
  }
  to.on_line = nullptr;
  return latencies;
}

}  // namespace

int main(int argc, char** argv) {
  int clients_n = 200, senders = 10, messages = 2000, samples = 500;
  std::string kernel_binary = LATTICE_KERNEL_BINARY, irc_binary = LATTICE_IRC_BINARY;
  bool mesh = true;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--no-mesh") {
      mesh = false;
      --i;
      continue;
    }
    if (i + 1 >= argc) Die("missing value for " + flag);
    if (flag == "--clients")
      clients_n = std::atoi(argv[i + 1]);
    else if (flag == "--senders")
      senders = std::atoi(argv[i + 1]);
    else if (flag == "--messages")
      messages = std::atoi(argv[i + 1]);
    else if (flag == "--samples")
      samples = std::atoi(argv[i + 1]);
    else if (flag == "--kernel")
      kernel_binary = argv[i + 1];
    else if (flag == "--irc")
      irc_binary = argv[i + 1];
    else
      Die("unknown flag " + flag);
  }
  senders = std::clamp(senders, 1, clients_n);
  ::signal(SIGPIPE, SIG_IGN);
  std::printf("load average at the start: %s\n", LoadAverage().c_str());

  char dir_template[] = "/tmp/lattice-irc-bench-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  Kernel alpha = StartKernel(kernel_binary, dir + "/alpha", "alpha");
  auto store = alpha.admin->CreateStore("bench", "chat");
  if (!store.ok()) Die("cannot create the chat store");
  Gateway gateway = StartGateway(irc_binary, alpha, "bench", IrcToken(*alpha.admin, "bench"),
                                 dir + "/irc-alpha.log");
  pid_t irc = gateway.pid;
  pid_t kernel = alpha.pid;

  Clients clients;
  for (int i = 0; i < clients_n; ++i) {
    BenchClient& client = clients.Add("user" + std::to_string(i), gateway.port);
    clients.Send(client, "NICK " + client.nick);
    clients.Send(client, "USER " + client.nick + " 0 * :bench");
    clients.Send(client, "JOIN #bench");
  }
  auto& all = clients.all();
  if (!clients.PumpUntil(
          [&] { return std::all_of(all.begin(), all.end(), [](auto& c) { return c->joined; }); },
          std::chrono::seconds(60))) {
    Die("not every client joined");
  }
  std::printf("lattice-irc bench: %d clients in #bench, %d senders, %d messages of 100 bytes\n",
              clients_n, senders, messages);

  // ---- 1. Fan-out ----
  std::string payload(100, 'x');
  double cpu_before = CpuSeconds(irc);
  double kernel_cpu_before = CpuSeconds(kernel);
  auto start = Clock::now();
  for (int i = 0; i < messages; ++i) {
    clients.Send(*all[static_cast<size_t>(i % senders)],
                 "PRIVMSG #bench :" + std::to_string(i) + " " + payload);
  }
  // Without echo-message a sender does not get its own lines back.
  auto expected = [&](size_t index) -> uint64_t {
    if (static_cast<int>(index) >= senders) return static_cast<uint64_t>(messages);
    uint64_t own = static_cast<uint64_t>(messages / senders) +
                   (static_cast<int>(index) < messages % senders ? 1 : 0);
    return static_cast<uint64_t>(messages) - own;
  };
  bool delivered = clients.PumpUntil(
      [&] {
        for (size_t i = 0; i < all.size(); ++i) {
          if (all[i]->received < expected(i)) return false;
        }
        return true;
      },
      std::chrono::minutes(10));
  double elapsed = Seconds(Clock::now() - start);
  if (!delivered) Die("not every message was delivered");
  double cpu = CpuSeconds(irc) - cpu_before;
  double kernel_cpu = CpuSeconds(kernel) - kernel_cpu_before;
  auto [rss, hwm] = MemoryKib(irc);
  uint64_t lines = 0;
  for (auto& client : all) lines += client->received;
  std::printf(
      "fan-out: %d messages posted in %.2f s = %.0f messages/s; %llu lines delivered "
      "= %.0f lines/s\n",
      messages, elapsed, messages / elapsed, static_cast<unsigned long long>(lines),
      static_cast<double>(lines) / elapsed);
  std::printf(
      "gateway: CPU %.2f s (%.0f%% of one core), RSS %ld KiB, peak RSS %ld KiB; "
      "kernel CPU %.2f s (%.0f%%)\n",
      cpu, 100 * cpu / elapsed, rss, hwm, kernel_cpu, 100 * kernel_cpu / elapsed);

  // ---- 2. Latency on one node ----
  Percentiles local =
      Summarize(MeasureLatency(clients, *all[0], *all[1], "#bench", samples, "lat"));
  std::printf(
      "latency (client to client through the kernel, %d samples, %d clients in the "
      "channel): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      samples, clients_n, local.p50, local.p90, local.p99, local.max);
  auto [rss_end, hwm_end] = MemoryKib(irc);
  std::printf("gateway at the end: RSS %ld KiB, peak RSS %ld KiB\n", rss_end, hwm_end);

  // ---- 3. Latency across two nodes ----
  if (mesh) {
    Kernel beta = StartKernel(kernel_binary, dir + "/beta", "beta");
    auto invite = alpha.admin->InvitePeer();
    if (!invite.ok()) Die("invite: " + std::string(invite.status().message()));
    auto joined = beta.admin->JoinMesh(invite->token(), "beta");
    if (!joined.ok()) Die("join: " + std::string(joined.status().message()));
    // The chat store, with every message above, reaches beta by bootstrap.
    auto bootstrap_start = Clock::now();
    auto on_alpha = alpha.admin->OpenStore(store->id());
    if (!on_alpha.ok()) Die("cannot read the chat store on alpha");
    uint64_t witnessed = 0;
    for (int attempt = 0; attempt < 6000 && witnessed < on_alpha->intentions(); ++attempt) {
      auto on_beta = beta.admin->OpenStore(store->id());
      if (on_beta.ok()) witnessed = on_beta->intentions();
      if (witnessed < on_alpha->intentions()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (witnessed < on_alpha->intentions()) {
      Die("the chat store did not reach beta; see " + dir + "/beta/kernel.log");
    }
    std::printf("mesh: beta joined and bootstrapped the chat store (%llu intentions) in %.2f s\n",
                static_cast<unsigned long long>(witnessed),
                Seconds(Clock::now() - bootstrap_start));
    Gateway far = StartGateway(irc_binary, beta, store->id(), IrcToken(*beta.admin, store->id()),
                               dir + "/irc-beta.log");
    BenchClient& near_client = *all[0];
    BenchClient& far_client = clients.Add("far", far.port);
    clients.Send(far_client, "NICK far");
    clients.Send(far_client, "USER far 0 * :bench");
    clients.Send(far_client, "JOIN #mesh");
    clients.Send(near_client, "JOIN #mesh");
    far_client.joined = near_client.joined = false;
    if (!clients.PumpUntil([&] { return far_client.joined && near_client.joined; },
                           std::chrono::seconds(60))) {
      Die("the clients did not join #mesh");
    }
    // A first line each way, so each side has seen the other before the clock runs.
    MeasureLatency(clients, near_client, far_client, "#mesh", 1, "warm");
    MeasureLatency(clients, far_client, near_client, "#mesh", 1, "warm back");
    Percentiles a_to_b =
        Summarize(MeasureLatency(clients, near_client, far_client, "#mesh", samples, "a2b"));
    Percentiles b_to_a =
        Summarize(MeasureLatency(clients, far_client, near_client, "#mesh", samples, "b2a"));
    std::printf(
        "latency across two nodes (client on alpha's gateway to client on beta's, %d "
        "samples): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
        samples, a_to_b.p50, a_to_b.p90, a_to_b.p99, a_to_b.max);
    std::printf(
        "latency across two nodes (beta to alpha, %d samples): p50 %.2f ms, p90 %.2f ms, "
        "p99 %.2f ms, max %.2f ms\n",
        samples, b_to_a.p50, b_to_a.p90, b_to_a.p99, b_to_a.max);
    Stop(far.pid);
    beta.admin.reset();
    Stop(beta.pid);
  }
  std::printf("load average at the end: %s\n", LoadAverage().c_str());

  Stop(irc);
  alpha.admin.reset();
  Stop(kernel);
  std::filesystem::remove_all(dir);
  return 0;
}
