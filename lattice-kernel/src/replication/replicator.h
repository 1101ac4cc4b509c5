// Replication between nodes (DESIGN §7): the peer links of this node and everything that
// travels over them. It listens for and dials the active members of every mesh this node is
// in (redialing with backoff), admits only them and holders of a valid invite, and keeps
// each store of each mesh converged with gossip, Negentropy reconciliation (on connect and
// periodically), fetches of missing dependencies and bootstrap of new stores. Invites and
// joins, and what the operator sees of peers, go through it too.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "net/transport.h"
#include "node/node.h"
#include "replication/bootstrapper.h"
#include "replication/chunk_fetcher.h"
#include "replication/connection_table.h"
#include "replication/fetcher.h"
#include "replication/gossip.h"
#include "replication/invites.h"
#include "replication/peer_traffic.h"
#include "replication/presence_gossip.h"
#include "replication/reconciler.h"
#include "replication/replication_context.h"
#include "replication/sync_hold.h"

namespace lattice::kernel::replication {

struct ReplicatorOptions {
  // Where to listen for peers ("" = do not listen). With a specific numeric host, links to
  // peers are also dialed from that address.
  std::string listen_address;
  // What to announce in /nodes/{self}/addrs and put in invites; empty: the listen address
  // when it names a host, else nothing.
  std::vector<std::string> advertise;
  // Period of anti-entropy with each connected peer, per store (randomised by +-20%).
  std::chrono::milliseconds sync_interval{30'000};
  // A due reconciliation of a store waits while the store's gossip pushes are in flight
  // (sync_hold.h): pushes queued to go out, or one sent or received less than this ago.
  std::chrono::milliseconds sync_settle{1'000};
  // It waits at most this long past when it fell due (0: one sync_interval); the first
  // reconciliation of a new link at most sync_settle.
  std::chrono::milliseconds max_sync_hold{0};
  // While a store's pushes are in flight, what this node lacks is nearly always among them:
  // a dependency that a pushed intention cites, what a reconciliation finds missing and
  // what a peer offers wait for the pushes to settle before they are fetched, at most this
  // long, and only what is still missing then is fetched.
  std::chrono::milliseconds max_gap_hold{2'000};
  // How often the maintenance loop looks at links, dials, bootstraps and timeouts.
  std::chrono::milliseconds tick{200};
  // Redial backoff: doubles from min to max while a peer cannot be reached.
  std::chrono::milliseconds min_dial_backoff{250};
  std::chrono::milliseconds max_dial_backoff{30'000};
  // A peer that misbehaved (invalid data, oversized frames) is not dialed nor admitted
  // for this long.
  std::chrono::milliseconds misbehaviour_backoff{60'000};
  // A bootstrap whose peer sent no chunk for this long is started again, from another peer
  // when one shares the store.
  std::chrono::milliseconds bootstrap_stall_timeout{10'000};
  // Floating intentions whose dependencies did not come within this long are dropped
  // (a peer that has them offers them again at the next reconciliation).
  std::chrono::milliseconds floating_max_age{60 * 60 * 1000};
  net::LinkLimits link_limits;
  // Negentropy sessions in either role (frame size, message budget); tests shrink them.
  sync::NegentropyOptions negentropy;
};

struct InviteInfo {
  std::string token;
  std::string invite_id;
  std::string mesh_id;
  uint64_t expires_ms = 0;
  std::vector<std::string> addresses;
};

struct JoinInfo {
  std::string mesh_id;
  std::string inviter_id;
  std::string inviter_name;
};

struct PeerView {
  MemberInfo member;
  std::string mesh_id;
  bool self = false;
  bool connected = false;
  bool forked = false;
  uint64_t last_seen_ms = 0;
  uint64_t last_sync_ms = 0;
  uint64_t lag = 0;
  std::string remote_address;
};

// A peer as Admin.Metrics shows it: a member of one of this node's meshes, or a node a link
// carried traffic with.
struct PeerTrafficView {
  std::string node_id;  // raw
  std::string name;
  PeerTrafficTotals totals;
};

// Builds the node's transport (TCP in the kernel, in memory in tests) from a config whose
// admission rule is the replicator's.
using TransportFactory = std::function<std::unique_ptr<net::Transport>(net::TransportConfig)>;

// Thread-safe. Destroy it before the node.
class Replicator {
 public:
  static absl::StatusOr<std::unique_ptr<Replicator>> Start(Node& node, ReplicatorOptions options,
                                                           TransportFactory make_transport);
  ~Replicator();

  // The address peers reach this node at ("" when not listening) and what it announces.
  std::string listen_address() const;
  std::vector<std::string> advertised() const { return advertised_; }

  // ---- the operator's calls (Admin) ----
  // With `readmit` (a raw node id): an invite that re-admits that revoked node only.
  absl::StatusOr<InviteInfo> Invite(const std::string& mesh_id, uint64_t ttl_ms,
                                    const std::string& readmit = "");
  // Joins the mesh of `token`: reaches the inviter, proves the invite, becomes a member
  // and bootstraps the mesh's root store before returning (child stores follow in the
  // background). `name` is announced in that mesh ("" = this node's own name).
  absl::StatusOr<JoinInfo> Join(const std::string& token, const std::string& name,
                                std::chrono::milliseconds timeout);
  // Revokes `node_id` in `mesh_id` (Node::RevokeMember), tells it (revocation_notice.h)
  // and drops its link.
  absl::Status Revoke(const std::string& mesh_id, const std::string& node_id);
  // Every member of `mesh_id` ("" = of every mesh) with what this node knows of its link.
  std::vector<PeerView> Peers(const std::string& mesh_id);
  // Every peer with what its links carried, in node id order.
  std::vector<PeerTrafficView> Traffic();
  // Reconciles `store_id` now with `peer_id` ("" = every connected peer of its mesh) and
  // waits until done or `timeout`.
  std::vector<SyncReport> SyncNow(const std::string& store_id, const std::string& peer_id,
                                  std::chrono::milliseconds timeout);
  std::vector<PeerSyncState> SyncStateOf(const std::string& store_id) const {
    return reconciler_->StateOf(store_id);
  }
  std::vector<v1::BootstrapRecord> Bootstraps() { return bootstrapper_->Progress(); }
  size_t connected_count() const { return connections_.All().size(); }
  // The node's presence (presence/presence_hub.h), which this replicator carries to peers.
  presence::PresenceHub& presence_hub() { return *presence_hub_; }
  PresenceGossipStats presence_stats() const { return presence_->stats(); }
  // What chunk fetching moved (fs stores' chunks).
  ChunkFetchStats chunk_stats() const { return chunk_fetcher_->stats(); }

  // Runs the maintenance pass now instead of at the next tick (tests, after a membership
  // change).
  void Kick();

 private:
  Replicator(Node& node, ReplicatorOptions options);
  absl::Status Begin(TransportFactory make_transport);

  absl::Status Admit(const std::string& node_id, const std::optional<net::InviteProof>& invite);
  void OnLink(std::shared_ptr<net::Link> link);
  void OnPayload(const ConnectionPtr& conn, std::string payload);
  void OnClose(const ConnectionPtr& conn, const absl::Status& reason);
  // Disconnects a peer that sent something no honest node sends (a chunk whose bytes do not
  // match its hash) and refuses it for options_.misbehaviour_backoff.
  void CutOff(const ConnectionPtr& conn, const std::string& why);
  void OnWelcome(const ConnectionPtr& conn, const v1::JoinWelcome& welcome);
  // A link with a member revoked in every mesh it shares with this node: both sides send
  // their revocation notices, then it closes. Never joins the connection table.
  void TradeRevocations(const ConnectionPtr& conn, const std::vector<std::string>& meshes);
  void WelcomeJoiner(const ConnectionPtr& conn);
  void OnBootstrapped(const ConnectionPtr& from, const std::string& store_id);

  void Run();
  void Maintain();
  // Starts bootstraps and reconciliations that are due on `conn`.
  void ServeConnection(const ConnectionPtr& conn, bool just_connected);
  void DialMissingPeers();
  void Dial(std::string peer_id, std::vector<std::string> addresses);
  void DropNonMembers();
  void AnnounceSelf();
  void WatchStores();
  void ExpireFloating();

  Node& node_;
  ReplicatorOptions options_;
  std::vector<std::string> advertised_;
  std::string self_id_;

  ConnectionTable connections_;
  PeerTraffic traffic_;
  Membership membership_;
  ReplicationContext ctx_;
  InviteBook invites_;
  std::unique_ptr<SyncHold> sync_hold_;  // outlives gossip_
  std::unique_ptr<Gossip> gossip_;
  std::unique_ptr<presence::PresenceHub> presence_hub_;  // outlives presence_
  std::unique_ptr<PresenceGossip> presence_;
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<ChunkFetcher> chunk_fetcher_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<Bootstrapper> bootstrapper_;
  std::unique_ptr<net::Transport> transport_;
  std::unique_ptr<net::Listener> listener_;

  struct DialState {
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};
    bool dialing = false;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool kicked_ = false;
  std::map<std::string, DialState> dials_;  // by peer id
  std::map<std::string, std::chrono::steady_clock::time_point> banned_until_;
  struct NextSync {
    std::chrono::steady_clock::time_point due;
    bool first = false;  // the first of its link, held at most sync_settle
  };
  std::map<std::string, NextSync> next_sync_;  // peer|store
  struct DialThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<DialThread> dial_threads_;
  size_t active_dials_ = 0;

  // Joins in progress: mesh id -> what the joiner waits for.
  struct PendingJoin {
    std::string inviter_id;
    std::string name;
    bool welcomed = false;
    std::string inviter_name;
  };
  std::map<std::string, PendingJoin> joins_;

  std::thread thread_;
};

}  // namespace lattice::kernel::replication
