#include "integration/services_support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "harness/loopback.h"
#include "lattice/common/files.h"

namespace lattice::testing {
namespace {

// A file under /proc/PID, or nothing once the process has gone: one that exits during
// the read makes read(2) fail with ESRCH.
std::string ReadProcFile(const std::string& path) { return ReadFile(path).value_or(""); }

std::vector<std::string> NulSeparated(const std::string& path) {
  std::string text = ReadProcFile(path);
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (c == '\0') {
      out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads lines until one holds `needle` (answering PINGs); false at the deadline or EOF.
bool ReadUntil(int fd, std::string& buffer, const std::string& needle,
               std::chrono::steady_clock::time_point deadline, std::string* seen) {
  while (true) {
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      *seen += line + "\n";
      if (line.rfind("PING", 0) == 0) {
        std::string pong = "PONG" + line.substr(4) + "\r\n";
        (void)!::write(fd, pong.data(), pong.size());
      }
      if (line.find(needle) != std::string::npos) return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> CtlJsonOf(KernelProcess& kernel, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = kernel.Ctl(argv);
  if (result.exit_code != 0) return absl::InternalError("lattice-ctl failed: " + result.err);
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  if (json.is_discarded()) return absl::InternalError("not JSON: " + result.out);
  return json;
}

absl::StatusOr<std::string> CreateChatStore(KernelProcess& kernel, const std::string& name) {
  auto created = CtlJsonOf(kernel, {"store", "create", name, "--type", "chat"});
  if (!created.ok()) return created.status();
  return (*created)["id"].get<std::string>();
}

absl::StatusOr<nlohmann::json> InstanceOf(KernelProcess& kernel, const std::string& service,
                                          const std::string& store_id) {
  auto list = CtlJsonOf(kernel, {"service", "list"});
  if (!list.ok()) return list.status();
  for (const auto& instance : (*list)["instances"]) {
    if (instance["service_id"] == service && instance["store_id"] == store_id) return instance;
  }
  return absl::NotFoundError("no instance of " + service + " for " + store_id + " in " + list->dump());
}

absl::StatusOr<nlohmann::json> WaitForInstance(KernelProcess& kernel, const std::string& service,
                                               const std::string& store_id, const std::string& status,
                                               std::chrono::milliseconds timeout,
                                               const std::function<bool(const nlohmann::json&)>& also) {
  absl::StatusOr<nlohmann::json> last = absl::NotFoundError("never listed");
  bool reached = WaitFor([&] {
    last = InstanceOf(kernel, service, store_id);
    return last.ok() && (*last)["status"] == status && (!also || also(*last));
  }, timeout);
  if (reached) return last;
  return absl::DeadlineExceededError("instance did not become " + status + "; last: " +
                                     (last.ok() ? last->dump() : std::string(last.status().message())));
}

int EndpointPort(const nlohmann::json& instance) {
  if (!instance.contains("endpoints") || instance["endpoints"].empty()) return 0;
  std::string endpoint = instance["endpoints"][0].get<std::string>();
  return std::atoi(endpoint.substr(endpoint.rfind(':') + 1).c_str());
}

std::vector<pid_t> DaemonPids(const std::string& store_id) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = ::readdir(proc)) {
    pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    auto argv = NulSeparated("/proc/" + std::string(entry->d_name) + "/cmdline");
    if (argv.empty() || argv[0].find("lattice-irc") == std::string::npos) continue;
    for (const auto& arg : argv) {
      if (arg == "--store=" + store_id) out.push_back(pid);
    }
  }
  ::closedir(proc);
  return out;
}

bool ProcessAlive(pid_t pid) {
  std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  // A zombie has exited: only its parent has not collected it yet.
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::vector<std::string> EnvironmentOf(pid_t pid) {
  return NulSeparated("/proc/" + std::to_string(pid) + "/environ");
}

int FreePort() {
  auto port = FreePort(std::string("127.0.0.1"));
  return port.ok() ? *port : 0;
}

bool Accepts(int port) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

absl::Status ChatThroughIrc(int port, const std::string& nick, const std::string& channel,
                            const std::string& text) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return absl::UnavailableError("cannot connect to port " + std::to_string(port));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string buffer, seen;
  auto send = [&](const std::string& line) {
    std::string bytes = line + "\r\n";
    return ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  };
  absl::Status result = absl::OkStatus();
  if (!send("NICK " + nick) || !send("USER " + nick + " 0 * :" + nick) ||
      !ReadUntil(fd, buffer, " 001 ", deadline, &seen)) {
    result = absl::UnavailableError("not welcomed; saw: " + seen);
  } else if (!send("JOIN " + channel) || !ReadUntil(fd, buffer, " 366 ", deadline, &seen)) {
    result = absl::UnavailableError("JOIN not answered; saw: " + seen);
  } else if (!send("PRIVMSG " + channel + " :" + text) || !send("PING :done") ||
             !ReadUntil(fd, buffer, "PONG", deadline, &seen)) {
    result = absl::UnavailableError("message not taken; saw: " + seen);
  }
  send("QUIT :bye");
  ::close(fd);
  return result;
}

bool WaitForChatMessage(KernelProcess& kernel, const std::string& store, const std::string& channel,
                        const std::string& text, std::chrono::milliseconds timeout) {
  // The gateway maps IRC's "#general" to the store's channel "general".
  std::string stored = channel.rfind('#', 0) == 0 ? channel.substr(1) : channel;
  return WaitFor([&] {
    auto history = CtlJsonOf(kernel, {"chat", "history", store, stored});
    return history.ok() && history->dump().find(text) != std::string::npos;
  }, timeout);
}

}  // namespace lattice::testing
