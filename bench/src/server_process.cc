#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace lattice::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The servers started and not yet stopped. A benchmark that fails exits at once (Fail), and
// exit(3) runs no destructor of a local ServerProcess: without this its kernels, floors and
// etcd would outlive it, holding their ports and directories.
std::mutex running_mutex;
std::set<pid_t> running;

void KillServersLeftRunning() {
  std::lock_guard lock(running_mutex);
  for (pid_t pid : running) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  running.clear();
}

void NoteRunning(pid_t pid) {
  static std::once_flag registered;
  std::call_once(registered, [] { std::atexit(KillServersLeftRunning); });
  std::lock_guard lock(running_mutex);
  running.insert(pid);
}

void NoteEnded(pid_t pid) {
  std::lock_guard lock(running_mutex);
  running.erase(pid);
}

bool IsSocket(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

absl::StatusOr<uint64_t> ProcStatusKib(pid_t pid, std::string_view field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  if (!in) return absl::NotFoundError(fmt::format("no /proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      std::istringstream value(line.substr(field.size() + 1));
      uint64_t kib = 0;
      value >> kib;
      return kib * 1024;
    }
  }
  return absl::NotFoundError(fmt::format("no {} in /proc/{}/status", field, pid));
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return fmt::format("exit code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return "unknown status";
}

}  // namespace

std::vector<std::string> KernelArgv(const std::string& binary, const std::string& data_dir,
                                    const std::string& socket, const std::string& node_name,
                                    const std::string& listen) {
  return {binary, "--data-dir", data_dir, "--socket", socket, "--name", node_name,
          "--listen", listen, "--log-level", "warn"};
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string all = buffer.str();
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const ServerOptions& options,
                                                                    bool check_status) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->options_ = options;
  if (options.argv.empty()) return absl::InvalidArgumentError("no server binary given");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, options.log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }
  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  Clock::time_point spawned = Clock::now();
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    return absl::UnavailableError(fmt::format("cannot start {}: {}", options.argv[0], std::strerror(err)));
  }
  server->pid_ = pid;
  NoteRunning(pid);

  Clock::time_point deadline = spawned + options.ready_deadline;
  std::string last_error = "the socket never appeared";
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      NoteEnded(pid);
      server->pid_ = -1;
      return absl::UnavailableError(fmt::format("{} exited ({}) before serving; its log ends:\n{}",
                                                options.argv[0], DescribeExit(status),
                                                FileTail(options.log_path)));
    }
    if (IsSocket(options.socket)) {
      absl::Status answered = options.ready ? options.ready() : absl::OkStatus();
      if (!options.ready) {
        auto client = server->Connect();
        if (client.ok() && check_status) {
          auto status_reply = (*client)->NodeStatus();
          if (!status_reply.ok()) client = status_reply.status();
        }
        answered = client.status();
      }
      if (answered.ok()) {
        server->startup_time_ = Clock::now() - spawned;
        return server;
      }
      last_error = answered.ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::DeadlineExceededError(fmt::format(
      "{} did not serve on {} within {} ms ({}); its log ends:\n{}", options.argv[0],
      options.socket, options.ready_deadline.count(), last_error, FileTail(options.log_path)));
}

ServerProcess::~ServerProcess() { (void)Stop(); }

absl::StatusOr<std::unique_ptr<client::Client>> ServerProcess::Connect() const {
  client::ClientOptions client_options;
  client_options.socket_path = options_.socket;
  client_options.token = options_.token;
  client_options.service_id = "lattice-kernel-bench";
  client_options.default_deadline = std::chrono::milliseconds(60'000);
  return client::Client::Connect(client_options);
}

absl::StatusOr<uint64_t> ServerProcess::ResidentBytes() const { return ProcStatusKib(pid_, "VmRSS"); }
absl::StatusOr<uint64_t> ServerProcess::PeakResidentBytes() const {
  return ProcStatusKib(pid_, "VmHWM");
}

absl::Status ServerProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return absl::OkStatus();
  struct Ended {
    pid_t pid;
    ~Ended() { NoteEnded(pid); }
  } ended{pid_};
  ::kill(pid_, SIGTERM);
  Clock::time_point deadline = Clock::now() + grace;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (done < 0 && errno != EINTR) {
      pid_ = -1;
      return absl::UnavailableError(fmt::format("waitpid: {}", std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return absl::DeadlineExceededError(fmt::format(
          "{} ignored SIGTERM for {} ms and was killed", options_.argv[0], grace.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(fmt::format("{} stopped with {}; its log ends:\n{}", options_.argv[0],
                                         DescribeExit(status), FileTail(options_.log_path)));
}

}  // namespace lattice::bench
