// The Store Protocol services (DESIGN §6). Each borrows the node and the authenticator,
// which outlive the gRPC server.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "lattice/v1/store_protocol.grpc.pb.h"
#include "node/node.h"
#include "rpc/arena_allocator.h"
#include "rpc/call_context.h"

namespace lattice::kernel {

namespace replication {
class Replicator;
}
namespace presence {
class PresenceHub;
}
class ServiceManager;
class StreamPump;
namespace metrics {
class RpcMetrics;
}

struct ServiceContext {
  Node& node;
  const Authenticator& auth;
  std::string socket_path;
  std::chrono::steady_clock::time_point started;
  replication::Replicator* replicator = nullptr;  // null when the node does not replicate
  // The node's presence: the replicator's, or the server's own (local only) without one.
  presence::PresenceHub* presence = nullptr;
  // Set once the ServiceManager runs (after the server, whose socket its daemons dial);
  // null before and in kernels without one.
  std::atomic<ServiceManager*> service_manager{nullptr};
  // Drives the open streams (stream_pump.h); owned by the server, set before it serves.
  StreamPump* streams = nullptr;
  // Every call's counters (Admin.Metrics); owned by the server, set before it serves.
  const metrics::RpcMetrics* rpc_metrics = nullptr;
};

// Returns from an Admin handler unless the caller holds the admin cookie.
#define LATTICE_REQUIRE_ADMIN(ctx, context)                            \
  do {                                                                 \
    auto caller_ = (ctx).auth.Authenticate(*(context));                \
    if (!caller_.ok()) return ToGrpc(caller_.status());                \
    if (auto s_ = RequireAdmin(*caller_); !s_.ok()) return ToGrpc(s_); \
  } while (false)

class ControllerService final : public v1::Controller::Service {
 public:
  explicit ControllerService(ServiceContext& ctx) : ctx_(ctx) {}
  grpc::Status Connect(grpc::ServerContext*, const v1::ConnectRequest*, v1::ConnectResponse*) override;
  grpc::Status OpenStore(grpc::ServerContext*, const v1::OpenStoreRequest*, v1::StoreInfo*) override;

 private:
  ServiceContext& ctx_;
};

// The unary calls are callback methods. A write waits for its group's fsync without
// holding a thread: the handler only queues it, and the store's own threads finish every
// call of the group (Store::WriteKvAsync); so does the sync barrier (Store::SyncAsync). A read is answered on the thread that received it: as a
// synchronous method it would be handed to a sync poller thread, a wake-up per call, since
// the callback methods' poller reads the connections too. The streams are callback methods
// driven by the StreamPump (stream_pump.h), so an open stream holds no thread.
using KvServiceBase = v1::Kv::WithCallbackMethod_Get<v1::Kv::WithCallbackMethod_Put<
    v1::Kv::WithCallbackMethod_Delete<v1::Kv::WithCallbackMethod_Batch<
        v1::Kv::WithCallbackMethod_Inspect<v1::Kv::WithCallbackMethod_Scan<
            v1::Kv::WithCallbackMethod_Watch<v1::Kv::WithCallbackMethod_Sync<
                v1::Kv::Service>>>>>>>>;

class KvService final : public KvServiceBase {
 public:
  explicit KvService(ServiceContext& ctx) : ctx_(ctx) {
    SetMessageAllocatorFor_Put(&put_messages_);
    SetMessageAllocatorFor_Batch(&batch_messages_);
  }
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext*, const v1::GetRequest*,
                                v1::GetResponse*) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext*, const v1::PutRequest*,
                                v1::WriteResult*) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext*, const v1::DeleteRequest*,
                                   v1::WriteResult*) override;
  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext*, const v1::BatchRequest*,
                                  v1::WriteResult*) override;
  grpc::ServerWriteReactor<v1::ScanPage>* Scan(grpc::CallbackServerContext*,
                                               const v1::ScanRequest*) override;
  grpc::ServerWriteReactor<v1::KvWatchResponse>* Watch(grpc::CallbackServerContext*,
                                                       const v1::KvWatchRequest*) override;
  grpc::ServerUnaryReactor* Inspect(grpc::CallbackServerContext*, const v1::InspectRequest*,
                                    v1::InspectResponse*) override;
  grpc::ServerUnaryReactor* Sync(grpc::CallbackServerContext*, const v1::KvSyncRequest*,
                                 v1::KvSyncResponse*) override;

 private:
  grpc::Status DoGet(grpc::CallbackServerContext*, const v1::GetRequest*, v1::GetResponse*);
  grpc::Status DoInspect(grpc::CallbackServerContext*, const v1::InspectRequest*,
                         v1::InspectResponse*);
  ServiceContext& ctx_;
  // The writes' requests in arenas (arena_allocator.h); the handlers copy what they keep.
  ArenaMessageAllocator<v1::PutRequest, v1::WriteResult> put_messages_;
  ArenaMessageAllocator<v1::BatchRequest, v1::WriteResult> batch_messages_;
};

// The writes are callback methods, as in KvService (Store::WriteChatAsync), and so is Watch.
using ChatServiceBase = v1::Chat::WithCallbackMethod_Post<v1::Chat::WithCallbackMethod_Reply<
    v1::Chat::WithCallbackMethod_React<v1::Chat::WithCallbackMethod_SetTopic<
        v1::Chat::WithCallbackMethod_SetModes<
            v1::Chat::WithCallbackMethod_Watch<v1::Chat::Service>>>>>>;

class ChatService final : public ChatServiceBase {
 public:
  explicit ChatService(ServiceContext& ctx) : ctx_(ctx) {}
  grpc::ServerUnaryReactor* Post(grpc::CallbackServerContext*, const v1::PostRequest*,
                                 v1::WriteResult*) override;
  grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext*, const v1::ReplyRequest*,
                                  v1::WriteResult*) override;
  grpc::ServerUnaryReactor* React(grpc::CallbackServerContext*, const v1::ReactRequest*,
                                  v1::WriteResult*) override;
  grpc::ServerUnaryReactor* SetTopic(grpc::CallbackServerContext*, const v1::SetTopicRequest*,
                                     v1::WriteResult*) override;
  grpc::Status GetTopic(grpc::ServerContext*, const v1::GetTopicRequest*, v1::Topic*) override;
  grpc::ServerUnaryReactor* SetModes(grpc::CallbackServerContext*, const v1::SetModesRequest*,
                                     v1::WriteResult*) override;
  grpc::Status GetChannel(grpc::ServerContext*, const v1::GetChannelRequest*,
                          v1::ChannelInfo*) override;
  grpc::Status History(grpc::ServerContext*, const v1::HistoryRequest*, v1::HistoryResponse*) override;
  grpc::Status ListChannels(grpc::ServerContext*, const v1::ListChannelsRequest*,
                            v1::ListChannelsResponse*) override;
  grpc::ServerWriteReactor<v1::ChatWatchResponse>* Watch(grpc::CallbackServerContext*,
                                                         const v1::ChatWatchRequest*) override;

 private:
  // Starts the write; the store finishes the call once it is durable (or applied, as
  // `durability` asks: a post's choice).
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* context, const std::string& store,
                                  std::string_view channel, v1::ChatPayload payload,
                                  v1::WriteResult* out,
                                  v1::Durability durability = v1::DURABILITY_SYNCED);
  // The same for a reply or reaction, whose channel is that of the message `ref` names (its
  // hash in hex or its msgid); the payload is given the parent's hash.
  grpc::ServerUnaryReactor* WriteToRef(grpc::CallbackServerContext* context,
                                       const std::string& store, const std::string& ref,
                                       v1::ChatPayload payload, v1::WriteResult* out);
  ServiceContext& ctx_;
};

// Presence (presence_service.cc): Announce is answered on the thread that received it (it
// only touches memory), and Watch is a stream driven by the StreamPump.
using PresenceServiceBase = v1::Presence::WithCallbackMethod_Announce<
    v1::Presence::WithCallbackMethod_Watch<v1::Presence::Service>>;

class PresenceService final : public PresenceServiceBase {
 public:
  explicit PresenceService(ServiceContext& ctx) : ctx_(ctx) {}
  grpc::ServerUnaryReactor* Announce(grpc::CallbackServerContext*, const v1::AnnounceRequest*,
                                     v1::AnnounceResponse*) override;
  grpc::ServerWriteReactor<v1::PresenceWatchResponse>* Watch(
      grpc::CallbackServerContext*, const v1::PresenceWatchRequest*) override;

 private:
  ServiceContext& ctx_;
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(ServiceContext& ctx) : ctx_(ctx) {}
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusResponse*) override;
  grpc::Status CreateStore(grpc::ServerContext*, const v1::CreateStoreRequest*, v1::StoreInfo*) override;
  grpc::Status ListStores(grpc::ServerContext*, const v1::ListStoresRequest*,
                          v1::ListStoresResponse*) override;
  grpc::Status ArchiveStore(grpc::ServerContext*, const v1::StoreRef*, v1::StoreInfo*) override;
  grpc::Status UnarchiveStore(grpc::ServerContext*, const v1::StoreRef*, v1::StoreInfo*) override;
  grpc::Status CreateToken(grpc::ServerContext*, const v1::CreateTokenRequest*,
                           v1::CreateTokenResponse*) override;
  grpc::Status ListTokens(grpc::ServerContext*, const v1::ListTokensRequest*,
                          v1::ListTokensResponse*) override;
  grpc::Status RevokeToken(grpc::ServerContext*, const v1::RevokeTokenRequest*, v1::TokenInfo*) override;
  grpc::Status VerifyStore(grpc::ServerContext*, const v1::StoreRef*, v1::VerifyResponse*) override;
  grpc::Status Ingest(grpc::ServerContext*, const v1::IngestRequest*, v1::IngestResponse*) override;
  grpc::Status Forks(grpc::ServerContext*, const v1::StoreRef*, v1::ForksResponse*) override;
  grpc::Status Floating(grpc::ServerContext*, const v1::StoreRef*, v1::FloatingResponse*) override;
  grpc::Status StoreStatus(grpc::ServerContext*, const v1::StoreRef*,
                           v1::StoreStatusResponse*) override;
  // Peers (admin_peers.cc).
  grpc::Status SyncStore(grpc::ServerContext*, const v1::SyncStoreRequest*,
                         v1::SyncStoreResponse*) override;
  grpc::Status InvitePeer(grpc::ServerContext*, const v1::InvitePeerRequest*,
                          v1::InvitePeerResponse*) override;
  grpc::Status JoinMesh(grpc::ServerContext*, const v1::JoinMeshRequest*,
                        v1::JoinMeshResponse*) override;
  grpc::Status ListPeers(grpc::ServerContext*, const v1::ListPeersRequest*,
                         v1::ListPeersResponse*) override;
  grpc::Status RevokePeer(grpc::ServerContext*, const v1::PeerRef*, v1::ListPeersResponse*) override;
  grpc::Status RenamePeer(grpc::ServerContext*, const v1::RenamePeerRequest*,
                          v1::ListPeersResponse*) override;
  // Services and node tags (admin_services.cc).
  grpc::Status ListServices(grpc::ServerContext*, const v1::ListServicesRequest*,
                            v1::ListServicesResponse*) override;
  grpc::Status DeclareService(grpc::ServerContext*, const v1::DeclareServiceRequest*,
                              v1::ServiceDeclarationInfo*) override;
  grpc::Status UndeclareService(grpc::ServerContext*, const v1::UndeclareServiceRequest*,
                                v1::ServiceDeclarationInfo*) override;
  grpc::Status SetServiceConsent(grpc::ServerContext*, const v1::SetServiceConsentRequest*,
                                 v1::ServiceConsentInfo*) override;
  grpc::Status SetServiceOverride(grpc::ServerContext*, const v1::SetServiceOverrideRequest*,
                                  v1::ServiceOverridesResponse*) override;
  grpc::Status ControlService(grpc::ServerContext*, const v1::ControlServiceRequest*,
                              v1::ServiceInstanceInfo*) override;
  grpc::Status TagNode(grpc::ServerContext*, const v1::TagNodeRequest*,
                       v1::NodeTagsResponse*) override;
  // The node's counters (admin_metrics.cc): the admin cookie or a token with the metrics right.
  grpc::Status Metrics(grpc::ServerContext*, const v1::MetricsRequest*,
                       v1::MetricsResponse*) override;

 private:
  grpc::Status SetStatus(grpc::ServerContext*, const v1::StoreRef*, v1::StoreInfo*, const char* status);
  // The mesh a request names (a root store's id or name, or a store of the mesh), or the
  // node's own mesh when `mesh` is empty.
  absl::StatusOr<std::string> ResolveMesh(const std::string& mesh);
  // The same, but an empty `mesh` stays empty: every mesh of the node.
  absl::StatusOr<std::string> ResolveMeshFilter(const std::string& mesh);
  // Adds the peer views of `node_id` in `mesh` ("" for every mesh) to `response`.
  void FillPeerViewsOf(const std::string& mesh, const std::string& node_id,
                       v1::ListPeersResponse* response);
  ServiceContext& ctx_;
};

// Fills a StoreInfo from a descriptor and the open store's counters.
void FillStoreInfo(Node& node, const StoreDescriptor& d, v1::StoreInfo* out);
void FillReceipt(const WriteReceipt& receipt, v1::WriteResult* out);
// The callback of an asynchronous store write: finishes `reactor` with the write's status,
// and with its receipt in `out` when it succeeded.
Store::WriteCallback FinishWithReceipt(grpc::ServerUnaryReactor* reactor, v1::WriteResult* out);
// The store's durability for a request's (SYNCED unless it asks for APPLIED).
Durability DurabilityOf(v1::Durability durability);

}  // namespace lattice::kernel
