// Client: one gRPC channel to the kernel's socket and a stub per service. Every call carries
// the bearer secret; unary calls get the default deadline (calls that wait in the kernel, their
// wait plus a margin), streams none.
#include "lattice/client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "client_impl.h"
#include "grpc_status.h"
#include "lattice/client/credentials.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

#ifndef LATTICE_VERSION
#define LATTICE_VERSION "0.0.0"
#endif

namespace lattice::client {
namespace {

// The kernel is local: retry a refused connection quickly instead of gRPC's default of a
// second growing to two minutes.
constexpr int kReconnectInitialMs = 50;
constexpr int kReconnectMaxMs = 2000;

// UNAVAILABLE when nothing could be listening at `path`, with a reason a person can act on.
absl::Status CheckSocket(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return absl::UnavailableError(
          fmt::format("no kernel socket at {} (is lattice-kernel running?)", path));
    }
    if (err == EACCES) {
      return absl::PermissionDeniedError(
          fmt::format("cannot reach the kernel socket at {}: {}", path, std::strerror(err)));
    }
    return absl::UnavailableError(
        fmt::format("cannot reach the kernel socket at {}: {}", path, std::strerror(err)));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(fmt::format("{} is not a socket", path));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(limits::kMaxRpcMessageBytes);
  args.SetMaxSendMessageSize(limits::kMaxRpcMessageBytes);
  // A channel of its own, so a fresh Client after a kernel restart does not inherit the
  // reconnect backoff of a shared subchannel.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kReconnectInitialMs);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also takes it as the time a connection
  // attempt may take, and a kernel busy for more than a few milliseconds would then fail
  // every call with "timed out before receiving SETTINGS frame".
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kReconnectMaxMs);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace

const char* ClientVersion() { return LATTICE_VERSION; }


Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->socket_path = options.socket_path.empty() ? DefaultClientSocketPath()
                                                  : options.socket_path;
  if (absl::Status reachable = CheckSocket(impl->socket_path); !reachable.ok()) {
    return reachable;
  }
  auto secret = ResolveSecret(options.token, impl->socket_path);
  if (!secret.ok()) return secret.status();
  impl->authorization = "Bearer " + *secret;

  impl->channel = OpenChannel(impl->socket_path);
  impl->controller = v1::Controller::NewStub(impl->channel);
  impl->kv = v1::Kv::NewStub(impl->channel);
  impl->chat = v1::Chat::NewStub(impl->channel);
  impl->presence = v1::Presence::NewStub(impl->channel);
  impl->admin = v1::Admin::NewStub(impl->channel);

  v1::ConnectRequest request;
  request.set_service_id(options.service_id);
  request.set_version(ClientVersion());
  auto session = impl->Unary<v1::ConnectResponse>([&](auto* context, auto* response) {
    return impl->controller->Connect(context, request, response);
  });
  if (!session.ok()) {
    if (session.status().code() == absl::StatusCode::kUnavailable) {
      return absl::UnavailableError(fmt::format("cannot reach the kernel at {}: {}",
                                                impl->socket_path,
                                                std::string(session.status().message())));
    }
    return session.status();
  }
  impl->session = std::move(*session);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const v1::ConnectResponse& Client::session() const { return impl_->session; }
const std::string& Client::socket_path() const { return impl_->socket_path; }
const ClientOptions& Client::options() const { return impl_->options; }

// ---- Controller ----

absl::StatusOr<v1::StoreInfo> Client::OpenStore(const std::string& store,
                                                const std::string& create_as_type) {
  v1::OpenStoreRequest request;
  request.set_store(store);
  request.set_create_as_type(create_as_type);
  return impl_->Unary<v1::StoreInfo>([&](auto* context, auto* response) {
    return impl_->controller->OpenStore(context, request, response);
  });
}

// ---- Kv ----

absl::StatusOr<v1::GetResponse> Client::Get(const std::string& store, const std::string& key) {
  v1::GetRequest request;
  request.set_store(store);
  request.set_key(key);
  return impl_->Unary<v1::GetResponse>([&](auto* context, auto* response) {
    return impl_->kv->Get(context, request, response);
  });
}

absl::StatusOr<v1::WriteResult> Client::Put(const std::string& store, const std::string& key,
                                            const std::string& value,
                                            v1::Durability durability) {
  v1::PutRequest request;
  request.set_store(store);
  request.set_key(key);
  request.set_value(value);
  request.set_durability(durability);
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->kv->Put(context, request, response);
  });
}

absl::StatusOr<v1::WriteResult> Client::Delete(const std::string& store,
                                               const std::string& key,
                                               v1::Durability durability) {
  v1::DeleteRequest request;
  request.set_store(store);
  request.set_key(key);
  request.set_durability(durability);
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->kv->Delete(context, request, response);
  });
}

absl::StatusOr<v1::WriteResult> Client::Batch(const std::string& store,
                                              const std::vector<v1::BatchOp>& ops,
                                              v1::Durability durability) {
  v1::BatchRequest request;
  request.set_store(store);
  request.set_durability(durability);
  for (const auto& op : ops) *request.add_ops() = op;
  return Batch(request);
}

absl::StatusOr<v1::WriteResult> Client::Batch(const v1::BatchRequest& request) {
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->kv->Batch(context, request, response);
  });
}

absl::StatusOr<v1::InspectResponse> Client::Inspect(const std::string& store,
                                                    const std::string& key) {
  v1::InspectRequest request;
  request.set_store(store);
  request.set_key(key);
  return impl_->Unary<v1::InspectResponse>([&](auto* context, auto* response) {
    return impl_->kv->Inspect(context, request, response);
  });
}

absl::StatusOr<v1::KvSyncResponse> Client::SyncKv(const std::string& store) {
  v1::KvSyncRequest request;
  request.set_store(store);
  return impl_->Unary<v1::KvSyncResponse>([&](auto* context, auto* response) {
    return impl_->kv->Sync(context, request, response);
  });
}

absl::Status Client::Scan(const v1::ScanRequest& request, const ScanEntryCallback& on_entry,
                          WatchCanceller* canceller) {
  return impl_->Stream<v1::ScanPage>(
      [&](grpc::ClientContext* context) { return impl_->kv->Scan(context, request); },
      [&](const v1::ScanPage& page) {
        for (const auto& entry : page.entries()) {
          if (!on_entry(entry)) return false;
        }
        return true;
      },
      canceller);
}

absl::Status Client::Scan(const std::string& store, const std::string& prefix,
                          const ScanEntryCallback& on_entry) {
  v1::ScanRequest request;
  request.set_store(store);
  request.set_prefix(prefix);
  return Scan(request, on_entry);
}

absl::Status Client::WatchKv(const v1::KvWatchRequest& request,
                             const KvWatchCallback& on_response, WatchCanceller* canceller) {
  return impl_->Stream<v1::KvWatchResponse>(
      [&](grpc::ClientContext* context) { return impl_->kv->Watch(context, request); },
      on_response, canceller);
}

// ---- Chat ----

absl::StatusOr<v1::WriteResult> Client::Post(const std::string& store,
                                             const std::string& channel,
                                             const std::string& text, const std::string& sender,
                                             bool action) {
  v1::PostRequest request;
  request.set_store(store);
  request.set_channel(channel);
  request.set_text(text);
  request.set_sender(sender);
  request.set_action(action);
  return Post(request);
}

absl::StatusOr<v1::WriteResult> Client::Post(const v1::PostRequest& request) {
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->chat->Post(context, request, response);
  });
}

absl::StatusOr<v1::WriteResult> Client::Reply(const std::string& store, const std::string& ref,
                                              const std::string& text,
                                              const std::string& sender) {
  v1::ReplyRequest request;
  request.set_store(store);
  request.set_ref(ref);
  request.set_text(text);
  request.set_sender(sender);
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->chat->Reply(context, request, response);
  });
}

absl::StatusOr<v1::WriteResult> Client::React(const std::string& store, const std::string& ref,
                                              const std::string& emoji,
                                              const std::string& sender) {
  v1::ReactRequest request;
  request.set_store(store);
  request.set_ref(ref);
  request.set_emoji(emoji);
  request.set_sender(sender);
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->chat->React(context, request, response);
  });
}

absl::StatusOr<v1::WriteResult> Client::SetTopic(const std::string& store,
                                                 const std::string& channel,
                                                 const std::string& text,
                                                 const std::string& sender) {
  v1::SetTopicRequest request;
  request.set_store(store);
  request.set_channel(channel);
  request.set_text(text);
  request.set_sender(sender);
  return impl_->Unary<v1::WriteResult>([&](auto* context, auto* response) {
    return impl_->chat->SetTopic(context, request, response);
  });
}

absl::StatusOr<v1::Topic> Client::GetTopic(const std::string& store,
                                           const std::string& channel) {
  v1::GetTopicRequest request;
  request.set_store(store);
  request.set_channel(channel);
  return impl_->Unary<v1::Topic>([&](auto* context, auto* response) {
    return impl_->chat->GetTopic(context, request, response);
  });
}

absl::StatusOr<v1::HistoryResponse> Client::History(const std::string& store,
                                                    const std::string& channel, uint32_t limit,
                                                    const std::string& before) {
  v1::HistoryRequest request;
  request.set_store(store);
  request.set_channel(channel);
  request.set_limit(limit);
  request.set_before(before);
  return History(request);
}

absl::StatusOr<v1::HistoryResponse> Client::History(const v1::HistoryRequest& request) {
  return impl_->Unary<v1::HistoryResponse>([&](auto* context, auto* response) {
    return impl_->chat->History(context, request, response);
  });
}

absl::StatusOr<v1::ListChannelsResponse> Client::ListChannels(const std::string& store) {
  v1::ListChannelsRequest request;
  request.set_store(store);
  return impl_->Unary<v1::ListChannelsResponse>([&](auto* context, auto* response) {
    return impl_->chat->ListChannels(context, request, response);
  });
}

absl::Status Client::WatchChat(const v1::ChatWatchRequest& request,
                               const ChatWatchCallback& on_response,
                               WatchCanceller* canceller) {
  return impl_->Stream<v1::ChatWatchResponse>(
      [&](grpc::ClientContext* context) { return impl_->chat->Watch(context, request); },
      on_response, canceller);
}

// ---- Presence ----

absl::Status Client::Announce(const v1::AnnounceRequest& request) {
  auto answered = impl_->Unary<v1::AnnounceResponse>([&](auto* context, auto* response) {
    return impl_->presence->Announce(context, request, response);
  });
  return answered.status();
}

absl::Status Client::WatchPresence(const v1::PresenceWatchRequest& request,
                                   const PresenceWatchCallback& on_response,
                                   WatchCanceller* canceller) {
  return impl_->Stream<v1::PresenceWatchResponse>(
      [&](grpc::ClientContext* context) { return impl_->presence->Watch(context, request); },
      on_response, canceller);
}

// ---- Admin ----

absl::StatusOr<v1::StatusResponse> Client::NodeStatus() {
  v1::StatusRequest request;
  return impl_->Unary<v1::StatusResponse>([&](auto* context, auto* response) {
    return impl_->admin->Status(context, request, response);
  });
}

absl::StatusOr<v1::StoreInfo> Client::CreateStore(const std::string& name,
                                                  const std::string& type,
                                                  const std::string& mesh) {
  v1::CreateStoreRequest request;
  request.set_name(name);
  request.set_type(type);
  request.set_mesh(mesh);
  return impl_->Unary<v1::StoreInfo>([&](auto* context, auto* response) {
    return impl_->admin->CreateStore(context, request, response);
  });
}

absl::StatusOr<v1::ListStoresResponse> Client::ListStores(bool include_archived) {
  v1::ListStoresRequest request;
  request.set_include_archived(include_archived);
  return impl_->Unary<v1::ListStoresResponse>([&](auto* context, auto* response) {
    return impl_->admin->ListStores(context, request, response);
  });
}

absl::StatusOr<v1::StoreInfo> Client::ArchiveStore(const std::string& store) {
  v1::StoreRef request;
  request.set_store(store);
  return impl_->Unary<v1::StoreInfo>([&](auto* context, auto* response) {
    return impl_->admin->ArchiveStore(context, request, response);
  });
}

absl::StatusOr<v1::StoreInfo> Client::UnarchiveStore(const std::string& store) {
  v1::StoreRef request;
  request.set_store(store);
  return impl_->Unary<v1::StoreInfo>([&](auto* context, auto* response) {
    return impl_->admin->UnarchiveStore(context, request, response);
  });
}

absl::StatusOr<v1::CreateTokenResponse> Client::CreateToken(
    const v1::CreateTokenRequest& request) {
  return impl_->Unary<v1::CreateTokenResponse>([&](auto* context, auto* response) {
    return impl_->admin->CreateToken(context, request, response);
  });
}

absl::StatusOr<v1::ListTokensResponse> Client::ListTokens() {
  v1::ListTokensRequest request;
  return impl_->Unary<v1::ListTokensResponse>([&](auto* context, auto* response) {
    return impl_->admin->ListTokens(context, request, response);
  });
}

absl::StatusOr<v1::TokenInfo> Client::RevokeToken(const std::string& id) {
  v1::RevokeTokenRequest request;
  request.set_id(id);
  return impl_->Unary<v1::TokenInfo>([&](auto* context, auto* response) {
    return impl_->admin->RevokeToken(context, request, response);
  });
}

absl::StatusOr<v1::VerifyResponse> Client::VerifyStore(const std::string& store) {
  v1::StoreRef request;
  request.set_store(store);
  return impl_->Unary<v1::VerifyResponse>([&](auto* context, auto* response) {
    return impl_->admin->VerifyStore(context, request, response);
  });
}

absl::StatusOr<v1::IngestResponse> Client::Ingest(const v1::IngestRequest& request) {
  return impl_->Unary<v1::IngestResponse>([&](auto* context, auto* response) {
    return impl_->admin->Ingest(context, request, response);
  });
}

absl::StatusOr<v1::IngestResponse> Client::Ingest(
    const std::string& store, const std::vector<v1::SignedIntention>& intentions) {
  v1::IngestRequest request;
  request.set_store(store);
  for (const auto& intention : intentions) *request.add_intentions() = intention;
  return Ingest(request);
}

absl::StatusOr<v1::ForksResponse> Client::Forks(const std::string& store) {
  v1::StoreRef request;
  request.set_store(store);
  return impl_->Unary<v1::ForksResponse>([&](auto* context, auto* response) {
    return impl_->admin->Forks(context, request, response);
  });
}

absl::StatusOr<v1::FloatingResponse> Client::Floating(const std::string& store) {
  v1::StoreRef request;
  request.set_store(store);
  return impl_->Unary<v1::FloatingResponse>([&](auto* context, auto* response) {
    return impl_->admin->Floating(context, request, response);
  });
}

absl::StatusOr<v1::StoreStatusResponse> Client::StoreStatus(const std::string& store) {
  v1::StoreRef request;
  request.set_store(store);
  return impl_->Unary<v1::StoreStatusResponse>([&](auto* context, auto* response) {
    return impl_->admin->StoreStatus(context, request, response);
  });
}

// ---- Admin: replication and peers ----

absl::StatusOr<v1::SyncStoreResponse> Client::SyncStore(const v1::SyncStoreRequest& request) {
  return impl_->UnaryWithin<v1::SyncStoreResponse>(
      impl_->WaitingDeadline(request.timeout_ms()), [&](auto* context, auto* response) {
        return impl_->admin->SyncStore(context, request, response);
      });
}

absl::StatusOr<v1::SyncStoreResponse> Client::SyncStore(const std::string& store,
                                                        const std::string& peer,
                                                        std::chrono::milliseconds timeout) {
  v1::SyncStoreRequest request;
  request.set_store(store);
  request.set_peer(peer);
  request.set_timeout_ms(static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0)));
  return SyncStore(request);
}

absl::StatusOr<v1::JoinMeshResponse> Client::JoinMesh(const v1::JoinMeshRequest& request) {
  return impl_->UnaryWithin<v1::JoinMeshResponse>(
      impl_->WaitingDeadline(request.timeout_ms()), [&](auto* context, auto* response) {
        return impl_->admin->JoinMesh(context, request, response);
      });
}

absl::StatusOr<v1::JoinMeshResponse> Client::JoinMesh(const std::string& token,
                                                      const std::string& name,
                                                      std::chrono::milliseconds timeout) {
  v1::JoinMeshRequest request;
  request.set_token(token);
  request.set_name(name);
  request.set_timeout_ms(static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0)));
  return JoinMesh(request);
}

absl::StatusOr<v1::InvitePeerResponse> Client::InvitePeer(const v1::InvitePeerRequest& request) {
  return impl_->Unary<v1::InvitePeerResponse>([&](auto* context, auto* response) {
    return impl_->admin->InvitePeer(context, request, response);
  });
}

absl::StatusOr<v1::InvitePeerResponse> Client::InvitePeer(const std::string& mesh,
                                                          uint64_t ttl_seconds) {
  v1::InvitePeerRequest request;
  request.set_mesh(mesh);
  request.set_ttl_seconds(ttl_seconds);
  return InvitePeer(request);
}

absl::StatusOr<v1::ListPeersResponse> Client::ListPeers(const std::string& mesh) {
  v1::ListPeersRequest request;
  request.set_mesh(mesh);
  return impl_->Unary<v1::ListPeersResponse>([&](auto* context, auto* response) {
    return impl_->admin->ListPeers(context, request, response);
  });
}

absl::StatusOr<v1::ListPeersResponse> Client::RevokePeer(const v1::PeerRef& request) {
  return impl_->Unary<v1::ListPeersResponse>([&](auto* context, auto* response) {
    return impl_->admin->RevokePeer(context, request, response);
  });
}

absl::StatusOr<v1::ListPeersResponse> Client::RevokePeer(const std::string& node,
                                                         const std::string& mesh) {
  v1::PeerRef request;
  request.set_node(node);
  request.set_mesh(mesh);
  return RevokePeer(request);
}

absl::StatusOr<v1::ListPeersResponse> Client::RenamePeer(const v1::RenamePeerRequest& request) {
  return impl_->Unary<v1::ListPeersResponse>([&](auto* context, auto* response) {
    return impl_->admin->RenamePeer(context, request, response);
  });
}

absl::StatusOr<v1::ListPeersResponse> Client::RenamePeer(const std::string& node,
                                                         const std::string& name,
                                                         const std::string& mesh) {
  v1::RenamePeerRequest request;
  request.set_node(node);
  request.set_name(name);
  request.set_mesh(mesh);
  return RenamePeer(request);
}

absl::StatusOr<v1::ListServicesResponse> Client::ListServices(const std::string& mesh) {
  v1::ListServicesRequest request;
  request.set_mesh(mesh);
  return impl_->Unary<v1::ListServicesResponse>([&](auto* context, auto* response) {
    return impl_->admin->ListServices(context, request, response);
  });
}

absl::StatusOr<v1::ServiceDeclarationInfo> Client::DeclareService(
    const v1::DeclareServiceRequest& request) {
  return impl_->Unary<v1::ServiceDeclarationInfo>([&](auto* context, auto* response) {
    return impl_->admin->DeclareService(context, request, response);
  });
}

absl::StatusOr<v1::ServiceDeclarationInfo> Client::UndeclareService(
    const v1::UndeclareServiceRequest& request) {
  return impl_->Unary<v1::ServiceDeclarationInfo>([&](auto* context, auto* response) {
    return impl_->admin->UndeclareService(context, request, response);
  });
}

absl::StatusOr<v1::ServiceConsentInfo> Client::SetServiceConsent(const std::string& service_id,
                                                                 const std::string& consent,
                                                                 const std::string& mesh) {
  v1::SetServiceConsentRequest request;
  request.set_service_id(service_id);
  request.set_consent(consent);
  request.set_mesh(mesh);
  return impl_->Unary<v1::ServiceConsentInfo>([&](auto* context, auto* response) {
    return impl_->admin->SetServiceConsent(context, request, response);
  });
}

absl::StatusOr<v1::ServiceOverridesResponse> Client::SetServiceOverride(
    const v1::SetServiceOverrideRequest& request) {
  return impl_->Unary<v1::ServiceOverridesResponse>([&](auto* context, auto* response) {
    return impl_->admin->SetServiceOverride(context, request, response);
  });
}

absl::StatusOr<v1::ServiceInstanceInfo> Client::ControlService(const std::string& service_id,
                                                               const std::string& store,
                                                               const std::string& action) {
  v1::ControlServiceRequest request;
  request.set_service_id(service_id);
  request.set_store(store);
  request.set_action(action);
  return impl_->Unary<v1::ServiceInstanceInfo>([&](auto* context, auto* response) {
    return impl_->admin->ControlService(context, request, response);
  });
}

absl::StatusOr<v1::NodeTagsResponse> Client::TagNode(const std::string& tag,
                                                     const std::string& mesh, bool remove) {
  v1::TagNodeRequest request;
  request.set_tag(tag);
  request.set_mesh(mesh);
  request.set_remove(remove);
  return impl_->Unary<v1::NodeTagsResponse>([&](auto* context, auto* response) {
    return impl_->admin->TagNode(context, request, response);
  });
}

absl::StatusOr<v1::MetricsResponse> Client::Metrics() {
  v1::MetricsRequest request;
  return impl_->Unary<v1::MetricsResponse>([&](auto* context, auto* response) {
    return impl_->admin->Metrics(context, request, response);
  });
}

}  // namespace lattice::client
