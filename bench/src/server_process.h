// A server the benchmarks talk to through its Unix socket, in a process of its own: the real
// lattice-kernel, the do-nothing gRPC floor, or etcd. Start() spawns it and waits, with a
// deadline, until it answers (a lattice::client::Client connects, or the server's own probe
// succeeds); the time that took is its start-up time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/client.h"

namespace lattice::bench {

struct ServerOptions {
  std::vector<std::string> argv;   // argv[0] is the binary's path
  std::string socket;              // where it will listen
  std::string token;               // empty: the admin cookie beside the socket
  std::string log_path;            // its stdout and stderr
  std::string working_dir;         // empty: the benchmark's own
  // Whether the server answers, once its socket exists; empty: a lattice::client::Client
  // connects (a Store Protocol server).
  std::function<absl::Status()> ready;
  std::chrono::milliseconds ready_deadline{60'000};
};

// Owns the child: SIGTERM (then SIGKILL after a grace period) and reaped on destruction.
// Not thread-safe; one owner thread.
class ServerProcess {
 public:
  // Spawns the server, then polls its socket until Client::Connect succeeds (and, when
  // `check_status` is set, Admin.Status answers). DEADLINE_EXCEEDED with the log's tail when
  // it does not serve in time; UNAVAILABLE when it exits first.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const ServerOptions& options,
                                                              bool check_status);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // From spawn to the first successful Connect (and Status).
  std::chrono::duration<double> startup_time() const { return startup_time_; }
  const ServerOptions& options() const { return options_; }

  // A new client with its own channel, authenticated like the readiness check was.
  absl::StatusOr<std::unique_ptr<client::Client>> Connect() const;

  // VmRSS and VmHWM of the process from /proc/<pid>/status, in bytes.
  absl::StatusOr<uint64_t> ResidentBytes() const;
  absl::StatusOr<uint64_t> PeakResidentBytes() const;

  // SIGTERM, then waits up to `grace` before SIGKILL. Returns the exit status as a message
  // when it was not a clean exit 0.
  absl::Status Stop(std::chrono::milliseconds grace = std::chrono::seconds(20));

 private:
  ServerProcess() = default;

  ServerOptions options_;
  pid_t pid_ = -1;
  std::chrono::duration<double> startup_time_{0};
};

// The command line of a lattice-kernel on `data_dir` serving `socket`, logging warnings only,
// with peer links on `listen` (none by default: a benchmark's kernel never listens beyond
// loopback).
std::vector<std::string> KernelArgv(const std::string& binary, const std::string& data_dir,
                                    const std::string& socket, const std::string& node_name,
                                    const std::string& listen = "");

// The last `max_bytes` of the file at `path`, for error messages.
std::string FileTail(const std::string& path, size_t max_bytes = 2000);

}  // namespace lattice::bench
