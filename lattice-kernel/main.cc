// lattice-kernel: owns the data directory, the node identity and every store, and serves
// the Store Protocol on a Unix socket until SIGTERM or SIGINT.
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "config/kernel_config.h"
#include "lattice/common/crypto.h"
#include "lattice/common/ids.h"
#include "lattice/common/logging.h"
#include "lattice/common/published_witness.h"
#include "lattice/common/status.h"
#include "net/tcp_transport.h"
#include "node/node.h"
#include "replication/replicator.h"
#include "rpc/server.h"
#include "services/service_manager.h"
#include "sys/notify.h"

using namespace lattice;
using namespace lattice::kernel;

int main(int argc, char** argv) {
  // The shared drive moves messages of a few MiB (Fs.Read answers, Fs.PutChunks requests):
  // keep such buffers on the heap and freed heap memory for reuse, rather than mapping,
  // faulting in and giving back fresh pages for every call.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  int exit_code = -1;
  auto config = LoadKernelConfig(argc, argv, &exit_code);
  if (exit_code >= 0) return exit_code;
  SetupLogging("kernel", config.ok() ? config->log_level : "info");
  if (!config.ok()) {
    spdlog::critical("{}", config.status().message());
    return 2;
  }
  InitCrypto();
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock detection on:
  // every lock gRPC takes then also updates a process-wide lock graph under a global lock.
  // It is a debugging aid; the sanitizer build and the tests find lock-order bugs instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken synchronously by this thread, so no handler runs inside gRPC or LevelDB.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  SystemdNotifier notifier;
  NodeOptions options{config->data_dir, config->name, config->min_free_bytes,
                      static_cast<size_t>(config->write_buffer_mb) << 20};
  options.chunk_gc_interval_ms = config->fs_gc_interval_ms;
  options.chunk_gc_grace_ms = config->fs_gc_grace_ms;
  options.chunk_gc_touch_ms = config->fs_gc_touch_ms;
  options.witness_dir = WitnessDirForSocket(config->socket);
  auto node = Node::Open(options);
  if (!node.ok()) {
    spdlog::critical("cannot open data directory {}: {}", config->data_dir, node.status().message());
    return 1;
  }
  replication::ReplicatorOptions replication_options;
  replication_options.listen_address = config->listen;
  replication_options.advertise = config->advertise;
  replication_options.sync_interval = std::chrono::milliseconds(config->sync_interval_ms);
  auto replicator = replication::Replicator::Start(
      **node, replication_options, [](net::TransportConfig transport_config) {
        return std::make_unique<net::TcpTransport>(std::move(transport_config));
      });
  if (!replicator.ok()) {
    spdlog::critical("{}", replicator.status().message());
    return 1;
  }
  auto server = StoreProtocolServer::Start(**node, config->socket, replicator->get());
  if (!server.ok()) {
    spdlog::critical("cannot serve: {}", server.status().message());
    return 1;
  }
  // After the server: the daemons it starts dial the kernel socket.
  ServiceManagerOptions service_options;
  service_options.services_dirs = config->services_dirs;
  service_options.bin_dir = config->bin_dir;
  service_options.socket_path = config->socket;
  auto services = ServiceManager::Start(**node, service_options);
  if (!services.ok()) {
    spdlog::critical("cannot start the ServiceManager: {}", services.status().message());
    return 1;
  }
  (*server)->SetServiceManager(services->get());
  spdlog::info("node {} ({}) serving on {} with data in {}", (*node)->node_id_hex(),
               (*node)->name(), config->socket, config->data_dir);
  (void)notifier.NotifyReady();
  (void)notifier.NotifyStatus("serving on " + config->socket);
  Node* node_ptr = node->get();
  auto watchdog = notifier.StartWatchdog([node_ptr] {
    // A node whose own root store cannot be read is wedged.
    Store* root = node_ptr->StoreById(node_ptr->own_mesh_id());
    return root != nullptr && root->db().Get("M/health").ok();
  });
  if (!watchdog.ok()) spdlog::warn("watchdog not started: {}", watchdog.status().message());

  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      spdlog::info("SIGHUP: nothing to reload yet");
      continue;
    }
    break;
  }
  spdlog::info("received signal {}, shutting down", signal_number);
  (void)notifier.NotifyStopping();
  notifier.StopWatchdog();
  // The daemons first, while the socket still serves them as they wind down.
  (*services)->Stop();
  (*server)->SetServiceManager(nullptr);
  (*server)->Shutdown(std::chrono::milliseconds(1000));
  services->reset();
  server->reset();
  replicator->reset();  // closes every peer link before the stores close
  node->reset();  // every store drains its queue and closes its database
  spdlog::info("stopped cleanly");
  return 0;
}
