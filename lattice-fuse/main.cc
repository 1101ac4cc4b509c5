// lattice-fuse: mounts one `fs` store of the local kernel as a folder (issue 15), speaking the
// Fs service of the Store Protocol over the kernel's socket with a token for that store.
//
//   lattice-fuse [--socket PATH] --store STORE MOUNTPOINT [-o OPTIONS] [--token-file F] [-f]
//
// Exit status: 0 after SIGTERM/SIGINT (unmounted), 1 when the kernel, the store or the mount
// point cannot be used, 2 on a usage error.
#include <malloc.h>
#include <fuse_lowlevel.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/synchronization/mutex.h"

#include "lattice/client/credentials.h"
#include "lattice/common/logging.h"
#include "src/filesystem.h"
#include "src/kernel_link.h"
#include "src/mount_point.h"
#include "src/stop_signals.h"
#include "src/watcher.h"

namespace {

std::string_view View(const absl::Status& status) {
  return std::string_view(status.message().data(), status.message().size());
}

// Without -f: the parent waits until the child has mounted (or failed) and exits with that
// result, so `lattice-fuse ... && ls MOUNTPOINT` works. Forks before any thread exists.
int ready_pipe = -1;

void DetachFromTerminal() {
  int fds[2];
  if (::pipe(fds) != 0) std::exit(1);
  pid_t child = ::fork();
  if (child < 0) std::exit(1);
  if (child > 0) {
    ::close(fds[1]);
    char byte = 0;
    ssize_t n = ::read(fds[0], &byte, 1);
    std::_Exit(n == 1 ? 0 : 1);
  }
  ::close(fds[0]);
  ::setsid();
  ready_pipe = fds[1];
}

void SignalReady() {
  if (ready_pipe < 0) return;
  char byte = 1;
  if (::write(ready_pipe, &byte, 1) != 1) {
    // The parent is gone; nothing to tell.
  }
  ::close(ready_pipe);
  ready_pipe = -1;
}

}  // namespace

int main(int argc, char** argv) {
  // Reads and uploads move buffers of a few MiB: keep them on the heap and the heap's free
  // memory for reuse, rather than mapping and faulting in fresh pages for each one.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  // As in the kernel: Debian's Abseil leaves absl::Mutex's deadlock detection on, and every
  // lock gRPC takes on each call then also updates a process-wide lock graph.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  lattice::fuse::LinkOptions link_options;
  std::string mountpoint;
  std::vector<std::string> mount_options;
  std::string token_file;
  std::string log_level = "info";
  bool foreground = false;
  bool fuse_debug = false;
  double retry_seconds = 30;
  double cache_seconds = lattice::fuse::FsOptions{}.attr_timeout_s;
  CLI::App app{"lattice-fuse: an fs store of a Lattice mesh as a folder"};
  app.add_option("--store", link_options.store, "the fs store to mount (id or name)")
      ->required();
  app.add_option("mountpoint,--mountpoint", mountpoint, "the folder to mount on")->required();
  app.add_option("--socket", link_options.socket_path,
                 "the kernel's socket (default: $LATTICE_SOCKET, else the standard path)");
  app.add_option("-o", mount_options,
                 "mount options, comma-separated (e.g. allow_other,ro); default_permissions "
                 "is always on");
  app.add_option("--token-file", token_file,
                 "read the token from this file (default: $LATTICE_TOKEN, else the admin "
                 "cookie beside the socket)");
  app.add_flag("-f,--foreground", foreground, "stay in the foreground");
  bool allow_other = false;
  app.add_flag("--allow-other", allow_other,
               "let other users of this machine use the folder (-o allow_other)");
  app.add_option("--retry-seconds", retry_seconds,
                 "how long a call waits for a kernel that is restarting before EIO")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--cache-seconds", cache_seconds,
                 "how long the FUSE kernel module keeps attributes and names")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  int write_back_threads = lattice::fuse::FsOptions{}.write_back_threads;
  app.add_option("--write-back-threads", write_back_threads,
                 "threads that commit closed files while close returns at once (0: close "
                 "waits for the commit, and a kill of lattice-fuse then loses no closed file)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  bool unlinks_waited = false;
  app.add_flag("--unlinks-waited", unlinks_waited,
               "unlink returns once the kernel removed the name (default: it returns at once and "
               "unlinks are sent in batches; a directory's fsync waits for them)");
  bool creates_waited = false;
  app.add_flag("--creates-waited", creates_waited,
               "creat returns once the kernel made the file (default: a new file in a directory "
               "made by this mount returns at once and its create is sent with its first "
               "content)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_flag("--fuse-debug", fuse_debug, "log every FUSE request (libfuse's -d)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  lattice::SetupLogging("lattice-fuse", log_level);

  if (!token_file.empty()) {
    auto token = lattice::client::ReadTokenFile(token_file);
    if (!token.ok()) {
      std::cerr << "lattice-fuse: " << View(token.status()) << "\n";
      return 1;
    }
    link_options.token = *token;
  } else {
    link_options.token = lattice::client::TokenFromEnvironment();
  }
  link_options.retry_deadline =
      std::chrono::milliseconds(static_cast<int64_t>(retry_seconds * 1000));

  if (absl::Status ready = lattice::fuse::PrepareMountPoint(mountpoint); !ready.ok()) {
    std::cerr << "lattice-fuse: " << View(ready) << "\n";
    return 1;
  }
  if (!foreground) DetachFromTerminal();

  auto link = lattice::fuse::KernelLink::Open(link_options);
  if (!link.ok()) {
    std::cerr << "lattice-fuse: " << View(link.status()) << "\n";
    return 1;
  }
  // The store must answer before anything is mounted: a wrong name or token is said now.
  {
    lattice::v1::FsStatFsRequest request;
    request.set_store(link_options.store);
    lattice::v1::FsStatFsResponse reply;
    absl::Status status =
        (*link)->Call("StatFs", &lattice::v1::Fs::Stub::StatFs, request, &reply);
    if (!status.ok()) {
      std::cerr << "lattice-fuse: cannot use the store " << link_options.store << ": "
                << View(status) << "\n";
      return 1;
    }
  }

  // The key new files' ids are minted from: only a mount that may write is told it.
  std::string author;
  if (!creates_waited && write_back_threads > 0) {
    lattice::v1::FsAuthorRequest request;
    request.set_store(link_options.store);
    lattice::v1::FsAuthorResponse reply;
    absl::Status status =
        (*link)->Call("Author", &lattice::v1::Fs::Stub::Author, request, &reply);
    if (status.ok()) author = reply.author();
  }

  lattice::fuse::FsOptions fs_options;
  fs_options.attr_timeout_s = cache_seconds;
  fs_options.entry_timeout_s = cache_seconds;
  fs_options.write_back_threads = write_back_threads;
  fs_options.batch_unlinks = !unlinks_waited && write_back_threads > 0;
  fs_options.author = author;
  lattice::fuse::FileSystem fs(link->get(), fs_options);

  std::string options = "default_permissions,fsname=lattice:" + link_options.store +
                        ",subtype=lattice";
  if (allow_other) options += ",allow_other";
  for (const std::string& option : mount_options) options += "," + option;
  std::vector<std::string> fuse_argv_strings = {"lattice-fuse", "-o", options};
  if (fuse_debug) fuse_argv_strings.push_back("-d");
  std::vector<char*> fuse_argv;
  for (std::string& arg : fuse_argv_strings) fuse_argv.push_back(arg.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(fuse_argv.size()), fuse_argv.data());

  const fuse_lowlevel_ops& ops = lattice::fuse::FileSystem::Operations();
  fuse_session* session = fuse_session_new(&args, &ops, sizeof ops, &fs);
  if (session == nullptr) {
    std::cerr << "lattice-fuse: the mount options were refused: " << options << "\n";
    fuse_opt_free_args(&args);
    return 2;
  }
  // Its handlers use the session: it goes before the session does.
  std::optional<lattice::fuse::StopSignals> stop_signals;
  stop_signals.emplace(session);
  if (fuse_session_mount(session, mountpoint.c_str()) != 0) {
    std::cerr << "lattice-fuse: cannot mount on " << mountpoint << "\n";
    stop_signals.reset();
    fuse_session_destroy(session);
    fuse_opt_free_args(&args);
    return 1;
  }
  fs.set_session(session);
  lattice::fuse::Watcher watcher(
      link->get(), [&fs](const lattice::v1::FsChange& change) { fs.Invalidate(change); },
      [&fs] { fs.ForgetExactAttrs(); });
  fs.set_watcher(&watcher);
  watcher.Start();
  spdlog::info("mounted the store {} on {}", link_options.store, mountpoint);
  SignalReady();
  if (!foreground) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::close(null);
    }
  }

  fuse_loop_config config{};
  config.clone_fd = 0;
  config.max_idle_threads = 16;
  int result = fuse_session_loop_mt(session, &config);
  stop_signals->LoopReturned();
  spdlog::debug("the FUSE loop returned ({})", result);

  fs.set_watcher(nullptr);
  watcher.Stop();
  fs.set_session(nullptr);
  // Files still open when the mount goes keep what was written to them.
  fuse_session_unmount(session);
  spdlog::debug("unmounted; saving what open files hold");
  int lost = fs.CommitAll();
  (*link)->Stop();
  stop_signals.reset();
  fuse_session_destroy(session);
  fuse_opt_free_args(&args);
  spdlog::info("unmounted {}", mountpoint);
  return result < 0 || lost > 0 ? 1 : 0;
}
