// Anti-entropy (DESIGN §7): Negentropy V1 reconciliations of one store with one peer over
// the store's persistent range index (store/sync_snapshot.h). The initiator learns every
// difference: it pushes what the peer lacks (not forwarded further) and fetches what it
// lacks. The responder only answers. A reconciliation counts as finished once Negentropy
// is done and every fetch it started has been answered. A difference too large for one
// session's message budget is reconciled by several sessions in turn, each started once
// what the previous one found has been fetched.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "replication/fetcher.h"
#include "replication/gossip.h"
#include "replication/replication_context.h"
#include "replication/sync_hold.h"
#include "sync/negentropy.h"

namespace lattice::kernel::replication {

struct SyncReport {
  std::string peer_id;
  std::string store_id;
  bool ok = false;
  std::string error;
  uint64_t needed = 0;   // differences we lacked
  uint64_t fetched = 0;  // of those, received
  uint64_t arrived = 0;  // of those, brought by pushes while their fetch waited
  uint64_t had = 0;      // differences the peer lacked
  uint64_t sent = 0;     // of those, sent
  uint64_t offered = 0;  // of those, offered for the peer to fetch (IntentionOffer)
  uint64_t rounds = 0;
  uint64_t bytes = 0;    // Negentropy message bytes, both ways
  uint64_t sessions = 0;  // Negentropy sessions it took
};

// What status shows of the last reconciliation of a store with a peer.
struct PeerSyncState {
  std::string peer_id;
  uint64_t last_sync_ms = 0;  // when the last one finished well
  uint64_t last_started_ms = 0;
  uint64_t lag = 0;           // differences it left unresolved
  std::string last_error;
  bool in_progress = false;
};

// Thread-safe.
class Reconciler {
 public:
  using Done = std::function<void(const SyncReport&)>;

  // `bootstrapping(store_id)` says whether this node is still bootstrapping the store; it
  // then declines to be reconciled (the bootstrap brings everything, once).
  // `fetch_hold`: how long at most a fetch waits for the store's pushes to settle (Start).
  Reconciler(ReplicationContext& ctx, Fetcher& fetcher, const SyncHold& hold,
             std::chrono::milliseconds fetch_hold,
             std::function<bool(const std::string&)> bootstrapping,
             sync::NegentropyOptions options = {})
      : ctx_(ctx),
        fetcher_(fetcher),
        hold_(hold),
        fetch_hold_(fetch_hold),
        bootstrapping_(std::move(bootstrapping)),
        options_(options) {}

  // Reconciles `store_id` with `conn`'s peer as initiator. When one is already running with
  // that peer for that store, `done` waits for it instead. `done` runs exactly once.
  //
  // What the peer holds and this node lacks is fetched at once when the store's pushes are
  // quiet. While they are not (`hold` holds the store), most of it is on its way in pushes
  // from the nodes that wrote it, and fetching it too would bring it twice: then the fetch
  // waits until the pushes settle, at most the constructor's `fetch_hold`, and asks only
  // for what is still missing. What the peer lacks is then offered (IntentionOffer)
  // instead of pushed, for it to fetch the same way. A reconciliation someone waits for
  // (`done`) never waits, and pushes.
  void Start(const ConnectionPtr& conn, const std::string& store_id, Done done = {});

  void OnRound(const ConnectionPtr& conn, const v1::SyncRound& round);
  void OnClosed(const PeerConnection* conn);
  // Fails initiations whose peer went silent; drops idle responder sessions.
  void Sweep();

  std::vector<PeerSyncState> StateOf(const std::string& store_id) const;

 private:
  struct Initiation;
  struct Responder {
    uint64_t session_id = 0;
    std::unique_ptr<sync::NegentropySession> session;
    std::chrono::steady_clock::time_point last_activity;
  };
  using Key = std::pair<const PeerConnection*, std::string>;  // (connection, store)

  // Opens `initiation`'s Negentropy session and sends its first message.
  void Begin(const ConnectionPtr& conn, const std::shared_ptr<Initiation>& initiation);
  // After a session that ran out of messages: the next session of the same reconciliation.
  void Continue(const std::shared_ptr<Initiation>& previous);
  void OnReply(const ConnectionPtr& conn, const v1::SyncRound& round);
  void OnInitiatorMessage(const ConnectionPtr& conn, const v1::SyncRound& round);
  // Whether `initiation` may wait for its store's pushes and they are in flight at `now`.
  // REQUIRES: mu_ held.
  bool PushesInFlight(const Initiation& initiation,
                      std::chrono::steady_clock::time_point now) const;
  // Tells the peer it may fetch `hashes` from here; returns how many the link took.
  static uint64_t Offer(PeerConnection& conn, const std::string& store_id,
                        const std::vector<std::string>& hashes);
  // Asks the peer for `hashes` that `initiation` found missing (counted in fetches_pending).
  void Fetch(const ConnectionPtr& conn, const std::shared_ptr<Initiation>& initiation,
             std::vector<std::string> hashes);
  // Fetches what `initiation` deferred and the pushes did not bring meanwhile.
  void FetchDeferred(const std::shared_ptr<Initiation>& initiation);
  // Finishes `initiation` if nothing is outstanding, or with `error` when given.
  void MaybeFinish(const std::shared_ptr<Initiation>& initiation, const std::string& error = "");
  static void SendRound(PeerConnection& conn, const std::string& store_id, uint64_t session_id,
                        std::string message, bool from_initiator, std::string error = "");

  ReplicationContext& ctx_;
  Fetcher& fetcher_;
  const SyncHold& hold_;
  const std::chrono::milliseconds fetch_hold_;
  std::function<bool(const std::string&)> bootstrapping_;
  const sync::NegentropyOptions options_;
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<Initiation>> initiations_;
  std::map<Key, Responder> responders_;
  std::map<std::pair<std::string, std::string>, PeerSyncState> states_;  // (peer, store)
  // What reconciliations pushed to each peer lately, so the next one does not push it again
  // while the peer is still applying it: (peer, hash) -> when.
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> pushed_;
  uint64_t next_session_id_ = 1;
};

}  // namespace lattice::kernel::replication
