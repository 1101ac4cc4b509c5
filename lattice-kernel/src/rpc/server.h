// The gRPC server on the kernel's Unix socket: socket mode 0660, a fresh admin cookie
// (0600) beside it at every start.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "metrics/rpc_metrics.h"
#include "node/node.h"
#include "presence/presence_hub.h"
#include "rpc/fs_service.h"
#include "rpc/services.h"
#include "rpc/stream_pump.h"

namespace lattice::kernel {

class StoreProtocolServer {
 public:
  // `replicator` may be null (a node that does not replicate); it outlives the server.
  static absl::StatusOr<std::unique_ptr<StoreProtocolServer>> Start(
      Node& node, const std::string& socket_path, replication::Replicator* replicator = nullptr);
  ~StoreProtocolServer();

  // Hands the Admin service calls to `manager` (which outlives the server, or is unset
  // with nullptr before it goes).
  void SetServiceManager(ServiceManager* manager) { context_->service_manager = manager; }

  // Stops accepting calls. Open watches end at once with UNAVAILABLE; calls in flight have
  // `grace` to finish.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  StoreProtocolServer() = default;

  std::unique_ptr<StreamPump> streams_;  // first: outlives every stream the server ran
  std::unique_ptr<metrics::RpcMetrics> rpc_metrics_;  // outlives every call it counts
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<presence::PresenceHub> local_presence_;  // without a replicator
  std::unique_ptr<ServiceContext> context_;
  std::unique_ptr<ControllerService> controller_;
  std::unique_ptr<KvService> kv_;
  std::unique_ptr<ChatService> chat_;
  std::unique_ptr<PresenceService> presence_;
  std::unique_ptr<FsService> fs_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<grpc::Server> server_;
  std::string socket_path_;
};

}  // namespace lattice::kernel
