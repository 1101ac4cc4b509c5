// irc_bench: figures for lattice-irc on one node. Starts a real lattice-kernel and
// lattice-irc in a temporary directory, connects N IRC clients (default 200) to one channel
// and measures:
//   1. fan-out: S clients post M messages as fast as the gateway takes them; every client
//      receives every message; messages posted per second and lines delivered per second,
//      with the gateway's CPU time and memory (from /proc) over the run;
//   2. latency: one client posts, another waits for the line, one message at a time;
//      p50/p90/p99 of send-to-receive time.
// Usage: irc_bench [--clients N] [--senders S] [--messages M] [--samples L]
//                  [--kernel PATH] [--irc PATH]
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
  explicit Clients(int port) : port_(port), epoll_(::epoll_create1(0)) {}

  BenchClient& Add(const std::string& nick) {
    auto client = std::make_unique<BenchClient>();
    client->nick = nick;
    client->fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
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
      if (line.find(" PRIVMSG #bench :") != std::string::npos) {
        ++client.received;
        if (client.on_line) client.on_line(line);
      }
      if (line.rfind("ERROR", 0) == 0) Die(client.nick + " was disconnected: " + line);
    }
    client.in.erase(0, pos);
  }

  int port_;
  int epoll_;
  std::vector<std::unique_ptr<BenchClient>> clients_;
};

}  // namespace

int main(int argc, char** argv) {
  int clients_n = 200, senders = 10, messages = 2000, samples = 500;
  std::string kernel_binary = LATTICE_KERNEL_BINARY, irc_binary = LATTICE_IRC_BINARY;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
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

  char dir_template[] = "/tmp/lattice-irc-bench-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  std::string socket = dir + "/kernel.sock";
  pid_t kernel =
      Spawn({kernel_binary, "--data-dir", dir + "/data", "--socket", socket, "--log-level", "warn"},
            {}, nullptr, dir + "/kernel.log");
  lattice::client::ClientOptions admin_options;
  admin_options.socket_path = socket;
  std::unique_ptr<lattice::client::Client> admin;
  for (int attempt = 0; attempt < 200 && !admin; ++attempt) {
    auto connected = lattice::client::Client::Connect(admin_options);
    if (connected.ok())
      admin = std::move(*connected);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!admin) Die("the kernel did not start; see " + dir + "/kernel.log");
  if (!admin->CreateStore("bench", "chat").ok()) Die("cannot create the chat store");
  lattice::v1::CreateTokenRequest token_request;
  token_request.set_name("irc");
  token_request.add_stores("bench");
  for (const char* right : {"read", "write", "watch"}) token_request.add_rights(right);
  auto token = admin->CreateToken(token_request);
  if (!token.ok()) Die("cannot create a token");

  int irc_stdout = -1;
  pid_t irc = Spawn(
      {irc_binary, "--store", "bench", "--socket", socket, "--listen", "127.0.0.1:0", "--history",
       "0", "--flood-burst", "100000", "--flood-rate", "100000", "--log-level", "warn"},
      {"LATTICE_TOKEN=" + token->token()}, &irc_stdout, dir + "/irc.log");
  std::string first_line;
  char c;
  while (::read(irc_stdout, &c, 1) == 1 && c != '\n') first_line.push_back(c);
  size_t colon = first_line.rfind(':');
  if (colon == std::string::npos) Die("lattice-irc did not start; see " + dir + "/irc.log");
  int port = std::atoi(first_line.c_str() + colon + 1);

  Clients clients(port);
  for (int i = 0; i < clients_n; ++i) {
    BenchClient& client = clients.Add("user" + std::to_string(i));
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

  // ---- 2. Latency ----
  BenchClient& from = *all[0];
  BenchClient& to = *all[1];
  std::vector<double> latencies;
  for (int i = 0; i < samples; ++i) {
    std::string marker = "lat " + std::to_string(i);
    bool seen = false;
    to.on_line = [&](const std::string& line) {
      if (line.size() >= marker.size() &&
          line.compare(line.size() - marker.size(), marker.size(), marker) == 0) {
        seen = true;
      }
    };
    auto sent = Clock::now();
    clients.Send(from, "PRIVMSG #bench :" + marker);
    if (!clients.PumpUntil([&] { return seen; }, std::chrono::seconds(30))) {
      Die("latency sample lost");
    }
    latencies.push_back(Seconds(Clock::now() - sent) * 1000.0);
  }
  to.on_line = nullptr;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<size_t>(p * static_cast<double>(latencies.size())))];
  };
  std::printf(
      "latency (client to client through the kernel, %d samples, %d clients in the "
      "channel): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      samples, clients_n, pct(0.50), pct(0.90), pct(0.99), latencies.back());
  auto [rss_end, hwm_end] = MemoryKib(irc);
  std::printf("gateway at the end: RSS %ld KiB, peak RSS %ld KiB\n", rss_end, hwm_end);

  ::kill(irc, SIGTERM);
  ::waitpid(irc, nullptr, 0);
  ::kill(kernel, SIGTERM);
  ::waitpid(kernel, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
