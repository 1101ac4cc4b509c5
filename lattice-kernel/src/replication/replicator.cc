#include "replication/replicator.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <random>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "net/address.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"
#include "replication/revocation_notice.h"
#include "state/root_rules.h"

namespace lattice::kernel::replication {

using Clock = std::chrono::steady_clock;

namespace {

// A joiner's link (made with an invite) this young is not yet dropped for want of a shared
// mesh: the joiner is admitted by its invite and becomes a member a moment later.
constexpr uint64_t kMembershipGraceMs = 10'000;
// A new link reconciles its stores this long after it was made (see ServeConnection).
constexpr auto kFirstSyncDelay = std::chrono::milliseconds(300);
// A link that breaks sooner than this after it was made counts as a failed dial.
constexpr uint64_t kShortLivedLinkMs = 10'000;

bool IsWildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "*";
}

bool IsNumericIp(const std::string& host) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::chrono::milliseconds Jittered(std::chrono::milliseconds base) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(base.count() * factor(rng)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Replicator>> Replicator::Start(Node& node, ReplicatorOptions options,
                                                              TransportFactory make_transport) {
  std::unique_ptr<Replicator> replicator(new Replicator(node, std::move(options)));
  LATTICE_RETURN_IF_ERROR(replicator->Begin(std::move(make_transport)));
  return replicator;
}

Replicator::Replicator(Node& node, ReplicatorOptions options)
    : node_(node),
      options_(std::move(options)),
      self_id_(node.identity().public_key),
      connections_(self_id_),
      membership_(node),
      ctx_(node, connections_, membership_),
      invites_(node.node_db()) {}

absl::Status Replicator::Begin(TransportFactory make_transport) {
  sync_hold_ = std::make_unique<SyncHold>(options_.sync_settle);
  gossip_ = std::make_unique<Gossip>(ctx_, self_id_, *sync_hold_);
  presence_hub_ = std::make_unique<presence::PresenceHub>(node_.identity());
  presence_ = std::make_unique<PresenceGossip>(ctx_, *presence_hub_);
  fetcher_ = std::make_unique<Fetcher>(ctx_, *gossip_, *sync_hold_, options_.max_gap_hold);
  chunk_fetcher_ = std::make_unique<ChunkFetcher>(
      ctx_, [this](const ConnectionPtr& conn, const std::string& why) { CutOff(conn, why); });
  reconciler_ = std::make_unique<Reconciler>(
      ctx_, *fetcher_, *sync_hold_, options_.max_gap_hold,
      [this](const std::string& store_id) { return bootstrapper_->Needed(store_id); },
      options_.negentropy);
  bootstrapper_ = std::make_unique<Bootstrapper>(
      ctx_, *gossip_, options_.bootstrap_stall_timeout,
      [this](const ConnectionPtr& from, const std::string& store_id) { OnBootstrapped(from, store_id); });

  net::TransportConfig config;
  config.identity = &node_.identity();
  config.admit = [this](const std::string& node_id, const std::optional<net::InviteProof>& invite) {
    return Admit(node_id, invite);
  };
  config.limits = options_.link_limits;
  std::optional<net::HostPort> listen;
  if (!options_.listen_address.empty()) {
    LATTICE_ASSIGN_OR_RETURN(listen, net::ParseHostPort(options_.listen_address));
    if (!IsWildcard(listen->host) && IsNumericIp(listen->host)) config.source_ip = listen->host;
  }
  transport_ = make_transport(std::move(config));

  if (listen) {
    net::ListenHandlers handlers;
    handlers.on_link = [this](std::shared_ptr<net::Link> link) { OnLink(std::move(link)); };
    handlers.on_refused = [](const std::string& remote, const absl::Status& reason) {
      spdlog::info("refused a peer connection from {}: {}", remote, reason.message());
    };
    auto listener = transport_->Listen(options_.listen_address, std::move(handlers));
    if (!listener.ok()) {
      // Refused rather than run unreachable: a second kernel on the default port would
      // otherwise look fine locally while no peer could ever reach it.
      return absl::FailedPreconditionError(
          fmt::format("{} (for peer links); choose another with --listen HOST:PORT, or "
                      "--listen \"\" to accept none",
                      listener.status().message()));
    }
    listener_ = *std::move(listener);
    spdlog::info("listening for peers on {}", listener_->address());
  }
  advertised_ = options_.advertise;
  if (advertised_.empty() && listener_ && !IsWildcard(listen->host)) {
    advertised_.push_back(listener_->address());
  }
  WatchStores();
  AnnounceSelf();
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

Replicator::~Replicator() {
  // Announcements made from now on stay on this node.
  presence_hub_->SetSender(nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  listener_.reset();
  for (auto& conn : connections_.All()) conn->Close("the node is shutting down");
  gossip_->Stop();
  for (auto& t : dial_threads_) {
    if (t.thread.joinable()) t.thread.join();
  }
  transport_.reset();  // waits for every link's threads: no callback runs after this
}

std::string Replicator::listen_address() const { return listener_ ? listener_->address() : ""; }

void Replicator::Kick() {
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
}

// ---- links ----------------------------------------------------------------------------

absl::Status Replicator::Admit(const std::string& node_id,
                               const std::optional<net::InviteProof>& invite) {
  {
    std::lock_guard lock(mu_);
    auto it = banned_until_.find(node_id);
    if (it != banned_until_.end() && Clock::now() < it->second) {
      return absl::PermissionDeniedError("this node is backing off from you after misbehaviour");
    }
  }
  if (invite) {
    // A revoked node comes back only with an invite made to re-admit it.
    if (auto record = invites_.Find(invite->invite_id()); record && record->readmit() != node_id) {
      auto member = node_.Member(record->mesh_id(), node_id);
      if (member && member->status == kMemberRevoked) {
        return absl::PermissionDeniedError(fmt::format(
            "{}; only an invite made with `lattice-ctl peer invite --readmit {}` admits it "
            "again",
            RevocationText(*member, record->mesh_id()), ToHex(node_id).substr(0, 16)));
      }
    }
    auto redeemed = invites_.Redeem(*invite, node_.clock().WallMs());
    if (!redeemed.ok()) return redeemed.status();
    return absl::OkStatus();
  }
  // A revoked member links only to be told (OnLink); a stranger not at all.
  if (membership_.SharedMeshes(node_id).empty() && membership_.RevokedIn(node_id).empty()) {
    return absl::PermissionDeniedError("not an active member of any mesh this node is in");
  }
  return absl::OkStatus();
}

void Replicator::OnLink(std::shared_ptr<net::Link> link) {
  auto conn = std::make_shared<PeerConnection>(std::move(link));
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      conn->Close("the node is shutting down");
      return;
    }
  }
  if (conn->invite_id().empty() && membership_.SharedMeshes(conn->peer_id()).empty()) {
    auto revoked = membership_.RevokedIn(conn->peer_id());
    if (!revoked.empty()) {
      TradeRevocations(conn, revoked);
      return;
    }
  }
  ConnectionPtr loser = connections_.Add(conn);
  if (loser == conn) {
    conn->Close("a link to this peer exists already");
    return;
  }
  if (loser) loser->Close("replaced by a newer link to the same peer");
  traffic_.Opened(conn);
  std::weak_ptr<PeerConnection> weak = conn;
  net::Link::Handler handler;
  handler.on_payload = [this, weak](std::string payload) {
    if (auto c = weak.lock()) OnPayload(c, std::move(payload));
  };
  handler.on_close = [this, weak](const absl::Status& reason) {
    if (auto c = weak.lock()) OnClose(c, reason);
  };
  conn->link().Start(std::move(handler));
  spdlog::info("linked with peer {} ({}, {})", ShortHex(conn->peer_id()), conn->remote_address(),
               conn->dialed() ? "dialed" : "accepted");

  v1::PeerMessage hello;
  hello.mutable_hello()->set_protocol(limits::kProtocolVersion);
  hello.mutable_hello()->set_name(node_.name().substr(0, limits::kMaxNameBytes));
  for (const auto& address : advertised_) hello.mutable_hello()->add_addresses(address);
  (void)conn->Send(hello);

  if (!conn->invite_id().empty() && !conn->dialed()) WelcomeJoiner(conn);
  presence_->OnLinked(conn);
  ServeConnection(conn, /*just_connected=*/true);
}

void Replicator::OnPayload(const ConnectionPtr& conn, std::string payload) {
  conn->Touch(node_.clock().WallMs());
  auto message = ParsePeerMessage(payload);
  if (!message.ok()) {
    spdlog::warn("peer {}: {}", ShortHex(conn->peer_id()), message.status().message());
    conn->ReportInvalid(std::string(message.status().message()));
    return;
  }
  switch (message->kind_case()) {
    case v1::PeerMessage::kHello:
      if (message->hello().protocol() != limits::kProtocolVersion) {
        conn->Close(fmt::format("replication protocol {} is not supported (this node speaks {})",
                                message->hello().protocol(), limits::kProtocolVersion));
      }
      break;
    case v1::PeerMessage::kPush: {
      const auto& push = message->push();
      Store* store = ctx_.StoreFor(conn->peer_id(), push.store_id());
      if (store == nullptr) break;  // a store we do not hold (yet) or do not share
      std::vector<v1::SignedIntention> intentions(push.intentions().begin(), push.intentions().end());
      auto outcomes = gossip_->IngestFrom(conn, *store, intentions, push.gossip(),
                                          {push.reached().begin(), push.reached().end()});
      // Reconciliations of this store wait until pushes have been quiet for a while.
      sync_hold_->Pushed(push.store_id(), Clock::now());
      std::vector<std::string> missing;
      for (const auto& outcome : outcomes) {
        if (outcome.kind == IngestOutcome::Kind::kFloating) {
          missing.insert(missing.end(), outcome.missing.begin(), outcome.missing.end());
        }
      }
      if (!missing.empty()) fetcher_->FetchMissingLater(conn, push.store_id(), missing);
      break;
    }
    case v1::PeerMessage::kOffer:
      if (ctx_.StoreFor(conn->peer_id(), message->offer().store_id()) == nullptr) break;
      fetcher_->OnOffer(conn, message->offer());
      break;
    case v1::PeerMessage::kFetch:
      fetcher_->OnRequest(conn, message->fetch());
      break;
    case v1::PeerMessage::kFetched:
      fetcher_->OnResponse(conn, message->fetched());
      break;
    case v1::PeerMessage::kSync:
      reconciler_->OnRound(conn, message->sync());
      break;
    case v1::PeerMessage::kBootstrap:
      bootstrapper_->OnRequest(conn, message->bootstrap());
      break;
    case v1::PeerMessage::kChunk:
      bootstrapper_->OnChunk(conn, message->chunk());
      break;
    case v1::PeerMessage::kWelcome:
      OnWelcome(conn, message->welcome());
      break;
    case v1::PeerMessage::kChunkRequest:
      chunk_fetcher_->OnRequest(conn, message->chunk_request());
      break;
    case v1::PeerMessage::kChunkResponse:
      chunk_fetcher_->OnResponse(conn, message->chunk_response());
      break;
    case v1::PeerMessage::kPresence:
      presence_->OnGossip(conn, message->presence());
      break;
    case v1::PeerMessage::KIND_NOT_SET:
      break;
  }
}

void Replicator::OnClose(const ConnectionPtr& conn, const absl::Status& reason) {
  traffic_.Closed(*conn);
  connections_.Remove(conn.get());
  fetcher_->OnClosed(conn.get());
  chunk_fetcher_->OnClosed(conn.get());
  reconciler_->OnClosed(conn.get());
  bootstrapper_->OnClosed(conn.get());
  auto now = Clock::now();
  // Only the peer itself can send messages that decrypt and then prove invalid: that earns
  // the long backoff. A frame that fails authentication or claims an impossible length may
  // have been altered on the way, so it is a broken link like any other (redialed with the
  // usual backoff), or anyone on the path could make two nodes shun each other.
  bool peer_at_fault = reason.code() == absl::StatusCode::kInvalidArgument;
  std::lock_guard lock(mu_);
  if (peer_at_fault) {
    spdlog::warn("peer {} disconnected for misbehaviour, backing off for {} s: {}",
                 ShortHex(conn->peer_id()),
                 std::chrono::duration_cast<std::chrono::seconds>(options_.misbehaviour_backoff).count(),
                 reason.message());
    banned_until_[conn->peer_id()] = now + options_.misbehaviour_backoff;
  } else if (net::IsMisbehaviour(reason)) {
    spdlog::warn("link with peer {} broke: {}", ShortHex(conn->peer_id()), reason.message());
  } else {
    spdlog::info("link with peer {} closed: {}", ShortHex(conn->peer_id()), reason.message());
  }
  // A link that dies young is not redialed at once: its backoff doubles as dials do.
  DialState& state = dials_[conn->peer_id()];
  bool short_lived = node_.clock().WallMs() - conn->connected_ms() < kShortLivedLinkMs;
  state.backoff = short_lived ? std::clamp(state.backoff * 2, options_.min_dial_backoff,
                                           options_.max_dial_backoff)
                              : options_.min_dial_backoff;
  state.next_attempt = now + state.backoff;
  kicked_ = true;
  cv_.notify_all();
}

void Replicator::CutOff(const ConnectionPtr& conn, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    spdlog::warn("peer {} cut off for misbehaviour, backing off for {} s: {}",
                 ShortHex(conn->peer_id()),
                 std::chrono::duration_cast<std::chrono::seconds>(options_.misbehaviour_backoff).count(),
                 why);
    banned_until_[conn->peer_id()] = Clock::now() + options_.misbehaviour_backoff;
  }
  conn->Close(why);
}

// ---- maintenance ----------------------------------------------------------------------

void Replicator::Run() {
  auto next_prune = Clock::now();
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.tick, [&] { return stopping_ || kicked_; });
      if (stopping_) return;
      kicked_ = false;
    }
    Maintain();
    if (Clock::now() >= next_prune) {
      invites_.Prune(node_.clock().WallMs());
      ExpireFloating();
      next_prune = Clock::now() + std::chrono::minutes(1);
    }
  }
}

void Replicator::Maintain() {
  node_.RefreshRegistry();
  WatchStores();
  AnnounceSelf();
  DropNonMembers();
  DialMissingPeers();
  for (const auto& conn : connections_.All()) ServeConnection(conn, /*just_connected=*/false);
  fetcher_->Sweep();
  chunk_fetcher_->Sweep();
  reconciler_->Sweep();
  bootstrapper_->Sweep();
}

void Replicator::ExpireFloating() {
  for (const auto& d : node_.ListStores(/*include_archived=*/true)) {
    Store* store = node_.StoreById(d.id);
    if (store == nullptr || store->floating_count() == 0) continue;
    auto dropped = store->ExpireFloating(static_cast<uint64_t>(options_.floating_max_age.count()));
    if (dropped.ok() && *dropped > 0) {
      spdlog::info("store {}: dropped {} floating intentions whose dependencies never came",
                   FormatStoreId(d.id), *dropped);
    }
  }
}

void Replicator::WatchStores() {
  for (const auto& d : node_.ListStores(/*include_archived=*/true)) {
    if (Store* store = node_.StoreById(d.id)) gossip_->Watch(store);
  }
}

void Replicator::ServeConnection(const ConnectionPtr& conn, bool just_connected) {
  auto now = Clock::now();
  std::map<std::string, std::vector<StoreDescriptor>> by_mesh;
  for (auto& d : ctx_.SharedStores(conn->peer_id())) by_mesh[d.mesh_id].push_back(std::move(d));
  for (const auto& [mesh, stores] : by_mesh) {
    // The root first: it says who may write the other stores.
    if (bootstrapper_->Needed(mesh)) {
      bootstrapper_->Start(conn, mesh);
      continue;
    }
    for (const auto& d : stores) {
      if (bootstrapper_->Needed(d.id)) {
        bootstrapper_->Start(conn, d.id);
        continue;
      }
      // The dialer reconciles; the listener answers (one reconciliation per link, not two).
      if (!conn->dialed()) continue;
      std::string key = conn->peer_id() + d.id;
      bool due = false;
      {
        std::lock_guard lock(mu_);
        if (just_connected) {
          // Not at once: when both nodes dial each other, one of the two links is closed
          // within moments, and reconciling on both would send everything twice.
          next_sync_[key] = {now + kFirstSyncDelay, /*first=*/true};
        } else {
          auto it = next_sync_.try_emplace(key, NextSync{now, false}).first;
          // Held while the store's pushes are in flight; the first one of a link for at
          // most sync_settle (a peer back from a break catches up soon).
          auto max_hold = it->second.first ? options_.sync_settle
                          : options_.max_sync_hold.count() > 0 ? options_.max_sync_hold
                                                               : options_.sync_interval;
          due = now >= it->second.due && !sync_hold_->Holds(d.id, it->second.due, now, max_hold);
        }
        if (due) next_sync_[key] = {now + Jittered(options_.sync_interval), false};
      }
      if (due && connections_.Get(conn->peer_id()) == conn) reconciler_->Start(conn, d.id);
    }
  }
}

void Replicator::DropNonMembers() {
  uint64_t now_ms = node_.clock().WallMs();
  std::set<std::string> joining;
  {
    std::lock_guard lock(mu_);
    for (const auto& [mesh, join] : joins_) joining.insert(join.inviter_id);
  }
  for (const auto& conn : connections_.All()) {
    if (joining.count(conn->peer_id())) continue;
    if (!conn->invite_id().empty() && now_ms - conn->connected_ms() < kMembershipGraceMs) continue;
    if (membership_.SharedMeshes(conn->peer_id()).empty()) {
      spdlog::info("dropping the link with {}: no longer an active member of a shared mesh",
                   ShortHex(conn->peer_id()));
      SendRevocationNoticeAndClose(node_, *conn, membership_.RevokedIn(conn->peer_id()));
    }
  }
}

absl::Status Replicator::Revoke(const std::string& mesh_id, const std::string& node_id) {
  LATTICE_RETURN_IF_ERROR(node_.RevokeMember(mesh_id, node_id));
  spdlog::info("mesh {}: revoked node {}", FormatStoreId(mesh_id), ShortHex(node_id));
  if (auto conn = connections_.Get(node_id); conn && membership_.SharedMeshes(node_id).empty()) {
    SendRevocationNoticeAndClose(node_, *conn, {mesh_id});
  }
  Kick();
  return absl::OkStatus();
}

void Replicator::TradeRevocations(const ConnectionPtr& conn, const std::vector<std::string>& meshes) {
  // The peer may hold revocations this node has not seen (this node's own, say, made while
  // the two were apart): its root pushes are applied here, its other messages ignored.
  auto received = std::make_shared<std::atomic<bool>>(false);
  net::Link::Handler handler;
  handler.on_payload = [this, received, meshes, peer = conn->peer_id()](std::string payload) {
    auto message = ParsePeerMessage(payload);
    if (!message.ok() || message->kind_case() != v1::PeerMessage::kPush) return;
    const auto& push = message->push();
    if (std::find(meshes.begin(), meshes.end(), push.store_id()) == meshes.end()) return;
    if (Store* root = node_.RootOf(push.store_id())) {
      std::vector<v1::SignedIntention> intentions(push.intentions().begin(), push.intentions().end());
      (void)root->Ingest(intentions);
    }
    received->store(true);
  };
  handler.on_close = [](const absl::Status&) {};
  conn->link().Start(std::move(handler));
  spdlog::info("peer {} is revoked here; trading what each side knows of revocations",
               ShortHex(conn->peer_id()));
  SendRevocationNoticeAndClose(node_, *conn, meshes, [received] { return received->load(); });
  // Like a link that died young: the next contact waits the dial backoff.
  std::lock_guard lock(mu_);
  DialState& state = dials_[conn->peer_id()];
  state.backoff = std::clamp(state.backoff * 2, options_.min_dial_backoff, options_.max_dial_backoff);
  state.next_attempt = Clock::now() + state.backoff;
}

// ---- what the operator sees -----------------------------------------------------------

std::vector<PeerView> Replicator::Peers(const std::string& mesh_filter) {
  std::set<std::string> forked;
  for (const auto& hex : node_.ForkedAuthors()) {
    if (auto id = ParseNodeId(hex)) forked.insert(*id);
  }
  std::vector<PeerView> out;
  for (const auto& mesh : node_.Meshes()) {
    std::string mesh_id = *ParseStoreId(mesh.root_store_id());
    if (!mesh_filter.empty() && mesh_filter != mesh_id) continue;
    std::vector<std::string> store_ids;
    for (const auto& d : node_.StoresOfMesh(mesh_id)) store_ids.push_back(d.id);
    for (auto& member : node_.Members(mesh_id)) {
      PeerView view;
      view.mesh_id = mesh_id;
      view.self = member.node_id == self_id_;
      view.forked = forked.count(member.node_id) > 0;
      if (auto conn = connections_.Get(member.node_id)) {
        view.connected = true;
        view.last_seen_ms = conn->last_seen_ms();
        view.remote_address = conn->remote_address();
      }
      for (const auto& store_id : store_ids) {
        for (const auto& state : reconciler_->StateOf(store_id)) {
          if (state.peer_id != member.node_id) continue;
          view.last_sync_ms = std::max(view.last_sync_ms, state.last_sync_ms);
          view.lag += state.lag;
        }
      }
      view.member = std::move(member);
      out.push_back(std::move(view));
    }
  }
  return out;
}

std::vector<PeerTrafficView> Replicator::Traffic() {
  std::map<std::string, PeerTrafficView> by_id;
  for (const auto& mesh : node_.Meshes()) {
    for (auto& member : node_.Members(*ParseStoreId(mesh.root_store_id()))) {
      if (member.node_id == self_id_) continue;
      PeerTrafficView& view = by_id[member.node_id];
      if (view.name.empty()) view.name = member.name;
    }
  }
  for (const auto& [id, totals] : traffic_.Snapshot()) {
    PeerTrafficView& view = by_id[id];
    view.totals = totals;
  }
  std::vector<PeerTrafficView> out;
  out.reserve(by_id.size());
  for (auto& [id, view] : by_id) {
    view.node_id = id;
    out.push_back(std::move(view));
  }
  return out;
}

std::vector<SyncReport> Replicator::SyncNow(const std::string& store_id, const std::string& peer_id,
                                            std::chrono::milliseconds timeout) {
  std::vector<ConnectionPtr> conns;
  if (peer_id.empty()) {
    conns = ctx_.PeersOf(store_id);
  } else if (auto conn = connections_.Get(peer_id)) {
    conns.push_back(conn);
  }
  struct Waiting {
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, SyncReport> reports;
  };
  auto waiting = std::make_shared<Waiting>();
  for (const auto& conn : conns) {
    reconciler_->Start(conn, store_id, [waiting](const SyncReport& report) {
      {
        std::lock_guard lock(waiting->mu);
        waiting->reports[report.peer_id] = report;
      }
      waiting->cv.notify_all();
    });
  }
  std::unique_lock lock(waiting->mu);
  waiting->cv.wait_for(lock, timeout, [&] { return waiting->reports.size() >= conns.size(); });
  std::vector<SyncReport> out;
  for (const auto& conn : conns) {
    auto it = waiting->reports.find(conn->peer_id());
    if (it != waiting->reports.end()) {
      out.push_back(it->second);
    } else {
      SyncReport late;
      late.peer_id = conn->peer_id();
      late.store_id = store_id;
      late.error = "did not finish in time";
      out.push_back(late);
    }
  }
  if (!peer_id.empty() && conns.empty()) {
    SyncReport absent;
    absent.peer_id = peer_id;
    absent.store_id = store_id;
    absent.error = "not connected";
    out.push_back(absent);
  }
  return out;
}

}  // namespace lattice::kernel::replication
