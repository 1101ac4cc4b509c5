#include "lattice/common/status.h"
#include "rpc/server.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "lattice/common/crypto.h"
#include "lattice/common/files.h"
#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"
#include "replication/replicator.h"
#include "rpc/fs_service.h"
#include "rpc/request_errors.h"

namespace lattice::kernel {

absl::StatusOr<std::unique_ptr<StoreProtocolServer>> StoreProtocolServer::Start(
    Node& node, const std::string& socket_path, replication::Replicator* replicator) {
  std::unique_ptr<StoreProtocolServer> server(new StoreProtocolServer());
  server->socket_path_ = socket_path;
  // A bare file name (--socket kernel.sock) is a socket in the working directory.
  std::string dir = std::filesystem::path(socket_path).parent_path().string();
  if (dir.empty()) dir = ".";
  // The cookie is written and the socket bound here: in a directory another user can write,
  // they could swap either for their own.
  if (auto s = MakePrivateDirectory(dir, 0750, "socket directory"); !s.ok()) return s;

  std::string cookie = ToHex(RandomBytes(32));
  if (auto s = WriteFileAtomic(CookiePathForSocket(socket_path), cookie + "\n", 0600); !s.ok()) {
    return s;
  }
  server->auth_ = std::make_unique<Authenticator>(cookie, node.tokens(), node.clock());
  server->context_.reset(
      new ServiceContext{node, *server->auth_, socket_path, std::chrono::steady_clock::now(), replicator});
  server->streams_ = std::make_unique<StreamPump>();
  server->context_->streams = server->streams_.get();
  if (replicator != nullptr) {
    server->context_->presence = &replicator->presence_hub();
  } else {
    server->local_presence_ = std::make_unique<presence::PresenceHub>(node.identity());
    server->context_->presence = server->local_presence_.get();
  }
  server->rpc_metrics_ = std::make_unique<metrics::RpcMetrics>(std::vector<std::string>{
      v1::Controller::service_full_name(), v1::Kv::service_full_name(),
      v1::Chat::service_full_name(), v1::Presence::service_full_name(),
      v1::Fs::service_full_name(), v1::Admin::service_full_name()});
  server->context_->rpc_metrics = server->rpc_metrics_.get();
  server->controller_ = std::make_unique<ControllerService>(*server->context_);
  server->kv_ = std::make_unique<KvService>(*server->context_);
  server->chat_ = std::make_unique<ChatService>(*server->context_);
  server->presence_ = std::make_unique<PresenceService>(*server->context_);
  server->fs_ = std::make_unique<FsService>(*server->context_);
  server->admin_ = std::make_unique<AdminService>(*server->context_);

  // The data directory lock is already held, so a socket left here is stale.
  ::unlink(socket_path.c_str());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(limits::kMaxRpcMessageBytes);
  builder.SetMaxSendMessageSize(limits::kMaxRpcMessageBytes);
  // Writers block in their handler until the group commit; keep enough pollers around that
  // gRPC does not spawn and retire a thread for every few calls.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  builder.RegisterService(server->controller_.get());
  builder.RegisterService(server->kv_.get());
  builder.RegisterService(server->chat_.get());
  builder.RegisterService(server->presence_.get());
  builder.RegisterService(server->fs_.get());
  builder.RegisterService(server->admin_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // Counts every call, whatever the interceptors after it do with its status.
  interceptors.push_back(std::make_unique<metrics::RpcMetricsInterceptorFactory>(*server->rpc_metrics_));
  interceptors.push_back(std::make_unique<RequestErrorsInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (!server->server_) {
    return absl::UnavailableError(fmt::format("cannot listen on unix socket {}", socket_path));
  }
  if (::chmod(socket_path.c_str(), 0660) != 0) {
    return ErrnoStatus(errno, "chmod " + socket_path);
  }
  return server;
}

void StoreProtocolServer::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  // Open streams end at once, telling their clients to resume elsewhere or later, instead
  // of holding the shutdown for its grace; the pump keeps running until the last is done.
  streams_->BeginStopping();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
  ::unlink(socket_path_.c_str());
}

StoreProtocolServer::~StoreProtocolServer() { Shutdown(std::chrono::milliseconds(0)); }

}  // namespace lattice::kernel
