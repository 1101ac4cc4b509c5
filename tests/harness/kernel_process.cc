#include "harness/kernel_process.h"

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace lattice::testing {

std::string KernelBinary() { return LATTICE_KERNEL_BIN; }
std::string CtlBinary() { return LATTICE_CTL_BIN; }

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lattice-it-XXXXXX").string();
  path_ = ::mkdtemp(pattern.data());
}

ScratchDir::~ScratchDir() {
  // Kept on request, so a failure's kernel logs can be read after the test.
  if (std::getenv("LATTICE_TEST_KEEP_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

KernelProcess::KernelProcess(std::string dir, std::vector<std::string> extra_args)
    : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {}

KernelProcess::~KernelProcess() {
  if (running()) Stop();
}

absl::Status KernelProcess::Start() {
  std::vector<std::string> argv{KernelBinary(), "--data-dir", data_dir(), "--socket", socket(),
                                "--log-level", "debug"};
  bool listen_given = std::any_of(extra_args_.begin(), extra_args_.end(), [](const std::string& a) {
    return a == "--listen" || a.starts_with("--listen=");
  });
  if (!listen_given) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<ChildProcess>();
  if (!process_->Start(argv, log_path())) return absl::InternalError("cannot start the kernel");
  absl::Status last = absl::UnavailableError("not started");
  bool up = WaitFor([&] {
    if (!process_->running()) return true;
    auto client = Connect();
    last = client.status();
    return client.ok();
  }, std::chrono::seconds(30));
  if (!process_->running()) return absl::InternalError("the kernel exited during start-up; see " + log_path());
  if (!up) return absl::DeadlineExceededError("the kernel did not serve in time: " + std::string(last.message()));
  return absl::OkStatus();
}

int KernelProcess::Stop() {
  if (!process_) return -1;
  process_->Signal(SIGTERM);
  return process_->Wait(std::chrono::seconds(30));
}

void KernelProcess::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait();
}

void KernelProcess::Signal(int signal_number) {
  if (process_) process_->Signal(signal_number);
}

absl::StatusOr<std::unique_ptr<client::Client>> KernelProcess::Connect(const std::string& token) {
  client::ClientOptions options;
  options.socket_path = socket();
  options.token = token;
  options.service_id = "integration-test";
  return client::Client::Connect(options);
}

CommandResult KernelProcess::Ctl(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv{CtlBinary(), "--socket", socket()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input);
}

}  // namespace lattice::testing
