// An in-process stand-in for lattice-kernel's socket, for unit tests of lattice-client and
// lattice-ctl: real gRPC over a Unix socket, an admin cookie beside it, bearer checks like
// the kernel's, and per-RPC behaviour supplied by each test.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::testing {

template <typename Request, typename Response>
using UnaryHook = std::function<grpc::Status(const Request&, Response*)>;

template <typename Request, typename Response>
using StreamHook = std::function<grpc::Status(grpc::ServerContext*, const Request&,
                                              grpc::ServerWriter<Response>*)>;

// What the fake kernel does for each RPC. An unset hook answers UNIMPLEMENTED, except
// connect, which by default accepts and describes node "fake".
struct FakeKernelHooks {
  std::set<std::string> tokens;  // service tokens accepted besides the admin cookie
  UnaryHook<v1::ConnectRequest, v1::ConnectResponse> connect;
  UnaryHook<v1::OpenStoreRequest, v1::StoreInfo> open_store;
  UnaryHook<v1::GetRequest, v1::GetResponse> get;
  UnaryHook<v1::PutRequest, v1::WriteResult> put;
  UnaryHook<v1::BatchRequest, v1::WriteResult> batch;
  StreamHook<v1::ScanRequest, v1::ScanPage> scan;
  StreamHook<v1::KvWatchRequest, v1::KvWatchResponse> kv_watch;
  StreamHook<v1::ChatWatchRequest, v1::ChatWatchResponse> chat_watch;
  UnaryHook<v1::StatusRequest, v1::StatusResponse> status;
  UnaryHook<v1::CreateTokenRequest, v1::CreateTokenResponse> create_token;
  UnaryHook<v1::StoreRef, v1::VerifyResponse> verify;
  UnaryHook<v1::IngestRequest, v1::IngestResponse> ingest;
  UnaryHook<v1::StoreRef, v1::FloatingResponse> floating;
  UnaryHook<v1::StoreRef, v1::StoreStatusResponse> store_status;
  UnaryHook<v1::SyncStoreRequest, v1::SyncStoreResponse> sync_store;
  UnaryHook<v1::InvitePeerRequest, v1::InvitePeerResponse> invite_peer;
  UnaryHook<v1::JoinMeshRequest, v1::JoinMeshResponse> join_mesh;
  UnaryHook<v1::ListPeersRequest, v1::ListPeersResponse> list_peers;
  UnaryHook<v1::PeerRef, v1::ListPeersResponse> revoke_peer;
  UnaryHook<v1::RenamePeerRequest, v1::ListPeersResponse> rename_peer;
};

// Thread-safe. Hooks run on gRPC's server threads.
class FakeKernel {
 public:
  // Writes `cookie` to the admin cookie beside `socket_path` and serves on the socket.
  static std::unique_ptr<FakeKernel> Start(const std::string& socket_path,
                                           const std::string& cookie, FakeKernelHooks hooks);
  ~FakeKernel();

  // Stops serving: running streams are cancelled, the socket stops answering.
  void Shutdown();

  // The authorization header of every call, in arrival order.
  std::vector<std::string> authorizations() const;
  // Every Controller.Connect request received.
  std::vector<v1::ConnectRequest> connects() const;
  // How long the client gave the latest call, seen when it arrived (max() when it set no
  // deadline).
  std::chrono::milliseconds last_call_budget() const;

  // Called by the services.
  grpc::Status Authenticate(grpc::ServerContext* context);
  void RecordConnect(const v1::ConnectRequest& request);
  const FakeKernelHooks& hooks() const { return hooks_; }

 private:
  FakeKernel(std::string cookie, FakeKernelHooks hooks);

  std::string cookie_;
  FakeKernelHooks hooks_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  mutable std::mutex mu_;
  std::vector<std::string> authorizations_;
  std::chrono::milliseconds last_call_budget_{0};
  std::vector<v1::ConnectRequest> connects_;
};

// The latest value a hook saw, set on a server thread and read by the test. Thread-safe.
template <typename T>
class Latest {
 public:
  void Set(const T& value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_ = value;
  }
  T Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  T value_{};
};

// Blocks a stream handler until its call is cancelled (client gone or server shut down).
void WaitUntilCancelled(grpc::ServerContext* context);

// A fresh directory under $TMPDIR (short enough for a Unix socket path).
std::string MakeTempDir();

// Polls `condition` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace lattice::testing
