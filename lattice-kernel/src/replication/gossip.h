// Gossip (DESIGN §7): every intention this node applies is pushed at once to the connected
// peers of its store, except the one it came from; an intention a peer pushed as gossip is
// forwarded once by each receiver (a receiver applies it once, so it forwards it once),
// which carries a write across a star or a chain of nodes. Intentions that arrive by fetch,
// reconciliation or bootstrap are not forwarded: the other peers reconcile on their own.
// Also the one door through which intentions from peers enter a store (IngestFrom), so it
// knows where each came from.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "replication/replication_context.h"
#include "store/store.h"

namespace lattice::kernel::replication {

struct GossipStats {
  uint64_t pushed = 0;    // intentions queued to a peer
  uint64_t dropped = 0;   // pushes lost to a full queue (anti-entropy repairs them)
};

// Thread-safe. Pushes leave from its own thread, so a store's writer only queues them.
class Gossip {
 public:
  explicit Gossip(ReplicationContext& ctx);
  ~Gossip();  // Stop()

  // Starts pushing what `store` applies (idempotent).
  void Watch(Store* store);
  // Stops the pushing thread and unsubscribes from every store. Idempotent.
  void Stop();

  // Ingests intentions `from` sent for `store`. When `forward`, those that apply are pushed
  // on to the other peers. Malformed ones are reported to the link (enough of them and it
  // disconnects). Blocks until every outcome is durable.
  std::vector<IngestOutcome> IngestFrom(const ConnectionPtr& from, Store& store,
                                        const std::vector<v1::SignedIntention>& intentions,
                                        bool forward);

  // Sends `signed_intentions` of `store_id` to `to` as a push that is not forwarded, in
  // messages within the size limits. Returns how many were queued.
  static uint64_t SendBatch(PeerConnection& to, const std::string& store_id,
                            const std::vector<v1::SignedIntention>& signed_intentions,
                            bool gossip, std::chrono::milliseconds max_wait);

  GossipStats stats() const;

 private:
  struct Origin {
    std::string peer;
    bool forward = false;
    int refs = 0;
  };
  struct Outgoing {
    std::string store_id;
    std::vector<v1::SignedIntention> intentions;
    std::string except_peer;
  };

  void OnApplied(const std::string& store_id, const std::vector<DecodedIntention>& applied);
  void Run();

  ReplicationContext& ctx_;

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
