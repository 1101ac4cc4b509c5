// The C++ client of the Lattice Store Protocol (DESIGN §6): one connection to the kernel's
// Unix socket, typed calls for every RPC of Controller, Kv, Chat and Admin (peers and
// replication included), and streams for scans and watches. Used by lattice-ctl, the daemons
// and the tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/client/watch_canceller.h"
#include "lattice/v1/store_protocol.pb.h"

namespace lattice::client {

// The version this client announces in Controller.Connect (the project's version).
const char* ClientVersion();

struct ClientOptions {
  // The kernel's socket. Empty means lattice::DefaultClientSocketPath().
  std::string socket_path;
  // A service token. Empty means the admin cookie beside the socket (see credentials.h).
  std::string token;
  // Deadline of every unary call. Zero means none. Scans and watches never have one.
  std::chrono::milliseconds default_deadline{30'000};
  // Announced in Controller.Connect, e.g. "lattice-ctl" or "lattice.irc-gateway".
  std::string service_id = "lattice-client";
};

// Called with each message of a stream; returning false ends the stream early (the call
// that runs the stream then returns OK).
using ScanEntryCallback = std::function<bool(const v1::ScanEntry&)>;
using KvWatchCallback = std::function<bool(const v1::KvWatchResponse&)>;
using ChatWatchCallback = std::function<bool(const v1::ChatWatchResponse&)>;
using PresenceWatchCallback = std::function<bool(const v1::PresenceWatchResponse&)>;

// A connected, authenticated client.
//
// Every fallible call returns the kernel's gRPC status as an absl::Status with the same code
// and message. Thread-safe: calls, including several streams, may run concurrently from any
// threads. The kernel resolves a `store` argument as a store id or a store name.
//
// The secret is read once, by Connect(). The kernel rewrites its admin cookie at every start,
// so a cookie-authenticated client must be connected again after a kernel restart
// (ResumingWatch does this by itself).
class Client {
 public:
  // Opens a channel to the socket, resolves the credentials and calls Controller.Connect,
  // which checks them and the version. UNAVAILABLE when no kernel answers at the socket.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const ClientOptions& options);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // What Controller.Connect answered: session id, node info, whether we are admin.
  const v1::ConnectResponse& session() const;
  // The socket actually dialled (options.socket_path or the default).
  const std::string& socket_path() const;
  const ClientOptions& options() const;

  // ---- Controller ----
  // `create_as_type` (kv | chat), when set, creates the store if it does not exist.
  absl::StatusOr<v1::StoreInfo> OpenStore(const std::string& store,
                                          const std::string& create_as_type = "");

  // ---- Kv ----
  // found=false (not an error) when the key is absent.
  absl::StatusOr<v1::GetResponse> Get(const std::string& store, const std::string& key);
  // A write returns once durable on the kernel's disk (DURABILITY_SYNCED), or with
  // DURABILITY_APPLIED once applied, readable by all, and made durable within a bounded time
  // or by the next SyncKv.
  absl::StatusOr<v1::WriteResult> Put(const std::string& store, const std::string& key,
                                      const std::string& value,
                                      v1::Durability durability = v1::DURABILITY_SYNCED);
  absl::StatusOr<v1::WriteResult> Delete(const std::string& store, const std::string& key,
                                         v1::Durability durability = v1::DURABILITY_SYNCED);
  // All ops are applied in one intention, atomically.
  absl::StatusOr<v1::WriteResult> Batch(const std::string& store,
                                        const std::vector<v1::BatchOp>& ops,
                                        v1::Durability durability = v1::DURABILITY_SYNCED);
  absl::StatusOr<v1::WriteResult> Batch(const v1::BatchRequest& request);
  absl::StatusOr<v1::InspectResponse> Inspect(const std::string& store, const std::string& key);
  // A barrier: returns once every write acknowledged before it is durable on the kernel's
  // disk, with the cursor up to which that holds.
  absl::StatusOr<v1::KvSyncResponse> SyncKv(const std::string& store);

  // Runs the Scan stream, calling `on_entry` for each entry in key order.
  absl::Status Scan(const v1::ScanRequest& request, const ScanEntryCallback& on_entry,
                    WatchCanceller* canceller = nullptr);
  absl::Status Scan(const std::string& store, const std::string& prefix,
                    const ScanEntryCallback& on_entry);

  // Runs one Kv.Watch stream until `on_response` returns false or `canceller` fires (both
  // return OK) or the stream breaks (its status, e.g. UNAVAILABLE when the kernel went away).
  // Each response carries the cursor to resume from; see ResumingWatch for a watch that
  // survives kernel restarts.
  absl::Status WatchKv(const v1::KvWatchRequest& request, const KvWatchCallback& on_response,
                       WatchCanceller* canceller = nullptr);

  // ---- Chat ----
  absl::StatusOr<v1::WriteResult> Post(const std::string& store, const std::string& channel,
                                       const std::string& text, const std::string& sender = "",
                                       bool action = false);
  absl::StatusOr<v1::WriteResult> Post(const v1::PostRequest& request);
  // `ref` is the hex hash of the message replied or reacted to.
  absl::StatusOr<v1::WriteResult> Reply(const std::string& store, const std::string& ref,
                                        const std::string& text, const std::string& sender = "");
  absl::StatusOr<v1::WriteResult> React(const std::string& store, const std::string& ref,
                                        const std::string& emoji, const std::string& sender = "");
  absl::StatusOr<v1::WriteResult> SetTopic(const std::string& store, const std::string& channel,
                                           const std::string& text,
                                           const std::string& sender = "");
  absl::StatusOr<v1::Topic> GetTopic(const std::string& store, const std::string& channel);
  // The newest `limit` messages (0 = the kernel's default), oldest first; `before` is the
  // next_before of a previous page.
  absl::StatusOr<v1::HistoryResponse> History(const std::string& store,
                                              const std::string& channel, uint32_t limit = 0,
                                              const std::string& before = "");
  absl::StatusOr<v1::HistoryResponse> History(const v1::HistoryRequest& request);
  absl::StatusOr<v1::ListChannelsResponse> ListChannels(const std::string& store);
  // Like WatchKv, for Chat.Watch.
  absl::Status WatchChat(const v1::ChatWatchRequest& request,
                         const ChatWatchCallback& on_response,
                         WatchCanceller* canceller = nullptr);

  // ---- Presence ----
  // Announces, renews or (ttl_ms 0) withdraws one of this node's presence entries.
  absl::Status Announce(const v1::AnnounceRequest& request);
  // Like WatchKv, for Presence.Watch: a snapshot of the live entries, then their changes.
  // There is no cursor to resume from: a new watch starts with a new snapshot.
  absl::Status WatchPresence(const v1::PresenceWatchRequest& request,
                             const PresenceWatchCallback& on_response,
                             WatchCanceller* canceller = nullptr);

  // ---- Admin (admin cookie only) ----
  absl::StatusOr<v1::StatusResponse> NodeStatus();
  absl::StatusOr<v1::StoreInfo> CreateStore(const std::string& name, const std::string& type,
                                            const std::string& mesh = "");
  absl::StatusOr<v1::ListStoresResponse> ListStores(bool include_archived = false);
  absl::StatusOr<v1::StoreInfo> ArchiveStore(const std::string& store);
  absl::StatusOr<v1::StoreInfo> UnarchiveStore(const std::string& store);
  // The response holds the secret, which the kernel shows only this once.
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(const v1::CreateTokenRequest& request);
  absl::StatusOr<v1::ListTokensResponse> ListTokens();
  absl::StatusOr<v1::TokenInfo> RevokeToken(const std::string& id);
  absl::StatusOr<v1::VerifyResponse> VerifyStore(const std::string& store);
  absl::StatusOr<v1::IngestResponse> Ingest(const v1::IngestRequest& request);
  absl::StatusOr<v1::IngestResponse> Ingest(const std::string& store,
                                            const std::vector<v1::SignedIntention>& intentions);
  absl::StatusOr<v1::ForksResponse> Forks(const std::string& store);
  // The intentions parked in `store` for a missing dependency or a clock too far ahead.
  absl::StatusOr<v1::FloatingResponse> Floating(const std::string& store);
  // Counts, hashes and per-peer sync state of one store.
  absl::StatusOr<v1::StoreStatusResponse> StoreStatus(const std::string& store);

  // ---- Admin: replication and peers (admin cookie only) ----
  // These two wait in the kernel for up to their timeout (0: the kernel's default,
  // kDefaultKernelWait), so their deadline is that wait plus kLongCallMargin instead of the
  // default deadline (never shorter than it; none when options.default_deadline is zero).
  static constexpr std::chrono::milliseconds kDefaultKernelWait{30'000};
  static constexpr std::chrono::milliseconds kLongCallMargin{10'000};

  // Reconciles `store` now with `peer` (empty: every connected peer of its mesh) and returns
  // one result per peer; a peer that failed is a result with ok=false, not an error.
  absl::StatusOr<v1::SyncStoreResponse> SyncStore(const v1::SyncStoreRequest& request);
  absl::StatusOr<v1::SyncStoreResponse> SyncStore(
      const std::string& store, const std::string& peer = "",
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Joins the mesh of an invite token: reaches the inviter, proves the secret, and returns
  // once admitted (bootstrap continues in the background; see NodeStatus().bootstraps).
  absl::StatusOr<v1::JoinMeshResponse> JoinMesh(const v1::JoinMeshRequest& request);
  absl::StatusOr<v1::JoinMeshResponse> JoinMesh(
      const std::string& token, const std::string& name = "",
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // A single-use invite into `mesh` (empty: the node's own); the response holds the token,
  // which the kernel shows only this once. ttl_seconds 0 means the kernel's default.
  absl::StatusOr<v1::InvitePeerResponse> InvitePeer(const v1::InvitePeerRequest& request);
  absl::StatusOr<v1::InvitePeerResponse> InvitePeer(const std::string& mesh = "",
                                                    uint64_t ttl_seconds = 0);
  // The peers of `mesh` (empty: of every mesh of this node), this node included (self=true).
  absl::StatusOr<v1::ListPeersResponse> ListPeers(const std::string& mesh = "");
  // `node` is a node id, a unique prefix of at least 8 hex digits, or a name; an empty `mesh`
  // means every mesh that knows the node. Both return the entries they changed.
  absl::StatusOr<v1::ListPeersResponse> RevokePeer(const v1::PeerRef& request);
  absl::StatusOr<v1::ListPeersResponse> RevokePeer(const std::string& node,
                                                   const std::string& mesh = "");
  absl::StatusOr<v1::ListPeersResponse> RenamePeer(const v1::RenamePeerRequest& request);
  absl::StatusOr<v1::ListPeersResponse> RenamePeer(const std::string& node,
                                                   const std::string& name,
                                                   const std::string& mesh = "");

  // ---- Admin: services and node tags (admin cookie only; DESIGN §8) ----
  // Descriptors, declarations, consent, this node's instances and, per mesh, where the
  // members run what (discovery). An empty `mesh` means every mesh of this node.
  absl::StatusOr<v1::ListServicesResponse> ListServices(const std::string& mesh = "");
  // These wait until the kernel has acted on the change (started or stopped daemons).
  absl::StatusOr<v1::ServiceDeclarationInfo> DeclareService(const v1::DeclareServiceRequest& request);
  absl::StatusOr<v1::ServiceDeclarationInfo> UndeclareService(
      const v1::UndeclareServiceRequest& request);
  absl::StatusOr<v1::ServiceConsentInfo> SetServiceConsent(const std::string& service_id,
                                                           const std::string& consent,
                                                           const std::string& mesh = "");
  absl::StatusOr<v1::ServiceOverridesResponse> SetServiceOverride(
      const v1::SetServiceOverrideRequest& request);
  // `action` is start, stop or reset.
  absl::StatusOr<v1::ServiceInstanceInfo> ControlService(const std::string& service_id,
                                                         const std::string& store,
                                                         const std::string& action);
  // Adds (or with `remove`, removes) one of this node's own tags in `mesh`.
  absl::StatusOr<v1::NodeTagsResponse> TagNode(const std::string& tag, const std::string& mesh = "",
                                               bool remove = false);

  // ---- Admin: metrics (admin cookie, or a token with the metrics right) ----
  // The kernel's counters: per store, per peer, per RPC method, per service instance.
  absl::StatusOr<v1::MetricsResponse> Metrics();

 private:
  friend class FsClient;  // calls the Fs service over this client's channel
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace lattice::client
