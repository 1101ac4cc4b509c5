// Gossip (DESIGN §7): every intention this node applies is pushed at once to the connected
// peers of its store; an intention a peer pushed as gossip is forwarded once by each
// receiver (a receiver applies it once, so it forwards it once), which carries a write
// across a star or a chain of nodes. Each push names the nodes it has reached already, and
// a receiver forwards only to its peers outside that set: in a full mesh every node gets a
// write once, not once per link; a push that itself reaches every member of the mesh goes
// without the set, as one no receiver forwards. Writes queued behind each other for the
// same nodes leave as one push. Intentions that arrive by fetch, reconciliation or
// bootstrap are not forwarded: the other peers reconcile on their own.
// Also the one door through which intentions from peers enter a store (IngestFrom), so it
// knows where each came from.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "replication/replication_context.h"
#include "replication/sync_hold.h"
#include "store/store.h"

namespace lattice::kernel::replication {

struct GossipStats {
  uint64_t pushed = 0;    // intentions queued to a peer
  uint64_t dropped = 0;   // pushes lost to a full queue (anti-entropy repairs them)
};

// Thread-safe. Pushes leave from its own thread, so a store's writer only queues them.
class Gossip {
 public:
  // `hold` learns of every push queued, sent and received, so reconciliations wait for them.
  Gossip(ReplicationContext& ctx, std::string self_id, SyncHold& hold);
  ~Gossip();  // Stop()

  // Starts pushing what `store` applies (idempotent).
  void Watch(Store* store);
  // Stops the pushing thread and unsubscribes from every store. Idempotent.
  void Stop();

  // Ingests intentions `from` sent for `store`. When `forward`, those that apply are pushed
  // on to the other peers. Malformed ones are reported to the link (enough of them and it
  // disconnects). Blocks until every outcome is durable.
  // `reached`: the push's already-reached nodes (ReachedId prefixes), for forwarding.
  std::vector<IngestOutcome> IngestFrom(const ConnectionPtr& from, Store& store,
                                        const std::vector<v1::SignedIntention>& intentions,
                                        bool forward, std::vector<std::string> reached = {});

  // Sends `signed_intentions` of `store_id` to `to` as a push that is not forwarded, in
  // messages within the size limits. Returns how many were queued.
  static uint64_t SendBatch(PeerConnection& to, const std::string& store_id,
                            const std::vector<v1::SignedIntention>& signed_intentions,
                            bool gossip, std::chrono::milliseconds max_wait,
                            const std::vector<std::string>& reached = {});

  GossipStats stats() const;

  // The short form of a node id a push lists as reached.
  static std::string ReachedId(std::string_view node_id);

 private:
  struct Origin {
    bool forward = false;
    std::set<std::string> reached;  // ReachedId prefixes, the sender's included
    int refs = 0;
  };
  struct Outgoing {
    std::string store_id;
    std::vector<v1::SignedIntention> intentions;
    std::set<std::string> reached;
  };

  void OnApplied(const std::string& store_id, const std::vector<DecodedIntention>& applied);
  void Run();

  ReplicationContext& ctx_;
  SyncHold& hold_;
  std::string self_id_;
  std::string self_reached_id_;

  std::mutex origins_mu_;
  std::unordered_map<std::string, Origin> origins_;  // by hash, while being ingested

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Outgoing> queue_;
  bool stopping_ = false;
  std::map<Store*, uint64_t> subscriptions_;
  GossipStats stats_;
  std::thread thread_;
};

}  // namespace lattice::kernel::replication
