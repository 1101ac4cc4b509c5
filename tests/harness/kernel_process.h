// A real lattice-kernel process on a temporary data directory, for integration tests:
// start it, wait until it serves, talk to it with the client library or lattice-ctl, and
// stop, kill or restart it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/process.h"
#include "lattice/client.h"

namespace lattice::testing {

// The binaries under test; CMake passes their paths.
std::string KernelBinary();
std::string CtlBinary();

// A fresh temporary directory, removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class KernelProcess {
 public:
  // Data in <dir>/data, socket <dir>/kernel.sock, log <dir>/kernel.log. Unless
  // `extra_args` name a --listen, the peer transport listens on 127.0.0.1 with a port of the
  // system's choosing, so kernels of tests that run in parallel never collide on 7470.
  explicit KernelProcess(std::string dir, std::vector<std::string> extra_args = {});
  ~KernelProcess();

  // Starts the kernel and waits (with a deadline) until it answers Controller.Connect.
  absl::Status Start();
  // SIGTERM and wait; returns the exit code.
  int Stop();
  // SIGKILL and reap.
  void Kill();
  // Sends `signal_number` without waiting (to stop several kernels at once, then Stop each).
  void Signal(int signal_number);
  bool running() { return process_ && process_->running(); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  // A client authenticated with the admin cookie, or with `token` when given.
  absl::StatusOr<std::unique_ptr<client::Client>> Connect(const std::string& token = "");
  // Runs lattice-ctl against this kernel.
  CommandResult Ctl(const std::vector<std::string>& args, const std::string& input = "");

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string socket() const { return dir_ + "/kernel.sock"; }
  std::string log_path() const { return dir_ + "/kernel.log"; }

 private:
  std::string dir_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace lattice::testing
