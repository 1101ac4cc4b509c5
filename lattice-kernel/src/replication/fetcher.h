// Fetching intentions by hash: what a reconciliation found missing, and the missing
// dependencies of floating intentions (DESIGN §7 "Gaps"), asked first of the peer that sent
// the dependent intention, then of the others. Also answers peers' fetch requests, in
// witness order so dependencies arrive first.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "replication/gossip.h"
#include "replication/replication_context.h"
#include "replication/sync_hold.h"

namespace lattice::kernel::replication {

struct FetchOutcome {
  uint64_t received = 0;  // intentions that arrived (applied, floating or duplicate)
  uint64_t applied = 0;
  uint64_t unknown = 0;   // hashes the peer did not hold
  bool complete = true;   // false when the link closed or a request timed out
};

// Thread-safe.
class Fetcher {
 public:
  using Done = std::function<void(const FetchOutcome&)>;

  // `gap_hold`: how long at most what FetchMissingLater and OnOffer take waits for the
  // store's pushes to settle before it is fetched.
  Fetcher(ReplicationContext& ctx, Gossip& gossip, const SyncHold& hold,
          std::chrono::milliseconds gap_hold)
      : ctx_(ctx), gossip_(gossip), hold_(hold), gap_hold_(gap_hold) {}

  // Asks `conn` for `hashes` of `store_id`, in batches, in the order given. `done` (optional)
  // runs once, after the last batch is answered, timed out or lost with the link.
  void Request(const ConnectionPtr& conn, const std::string& store_id,
               std::vector<std::string> hashes, Done done = {});

  // Fetches dependencies that floating intentions wait for: from `preferred` when given,
  // and from the other peers of the store for those it does not hold. Each hash is asked
  // at most once per kFetchTimeout.
  void FetchMissing(const ConnectionPtr& preferred, const std::string& store_id,
                    const std::vector<std::string>& missing);
  // The same for dependencies that intentions pushed by `preferred` cite, and for what it
  // offers. While the store's pushes are in flight these are nearly always among them,
  // coming from the nodes that wrote them: they are asked for once the pushes settle (at
  // most gap_hold later), and only those still missing then.
  void FetchMissingLater(const ConnectionPtr& preferred, const std::string& store_id,
                         const std::vector<std::string>& missing);

  // What `conn`'s peer offers (IntentionOffer), fetched like FetchMissingLater. Offers cost
  // a peer 32 bytes a hash: past kMaxWaitingHashes waiting, or kMaxAskedHashes asked for
  // and not yet answered, they are dropped (a later reconciliation finds them again).
  void OnOffer(const ConnectionPtr& conn, const v1::IntentionOffer& offer);
  void OnRequest(const ConnectionPtr& conn, const v1::FetchRequest& request);
  void OnResponse(const ConnectionPtr& conn, const v1::FetchResponse& response);
  void OnClosed(const PeerConnection* conn);
  // Times out requests; asks for what every store's floating intentions still miss.
  void Sweep();

 private:
  struct Group {
    FetchOutcome outcome;
    size_t pending = 0;
    Done done;
  };
  struct Pending {
    std::weak_ptr<PeerConnection> conn;
    const PeerConnection* conn_key = nullptr;
    std::string store_id;
    std::chrono::steady_clock::time_point sent;
    std::shared_ptr<Group> group;
    bool for_dependencies = false;
    std::set<std::string> tried;  // peers already asked (dependency fetches)
  };

  struct Gap {
    std::weak_ptr<PeerConnection> preferred;
    std::string store_id;
    std::vector<std::string> hashes;
    std::chrono::steady_clock::time_point since;
  };

  // Those of `missing` not asked for in the last kFetchTimeout, marked asked at `now`.
  // REQUIRES: mu_ held.
  std::vector<std::string> MarkAsked(const std::string& store_id,
                                     const std::vector<std::string>& missing,
                                     std::chrono::steady_clock::time_point now);
  // Asks `preferred` (or another peer of the store) for `hashes`, in batches.
  void Ask(ConnectionPtr preferred, const std::string& store_id,
           const std::vector<std::string>& hashes);
  // Asks for what the gaps that waited for pushes still miss.
  void FetchSettledGaps();
  void SendRequest(const ConnectionPtr& conn, const std::string& store_id,
                   std::vector<std::string> hashes, std::shared_ptr<Group> group,
                   bool for_dependencies, std::set<std::string> tried);
  // Ends one request of `group`, outside the lock.
  static void Finish(const std::shared_ptr<Group>& group);
  // Once a reconciliation's request is answered, lost or timed out, its hashes may be asked
  // for as dependencies again. REQUIRES: mu_ held.
  void ForgetInFlight(uint64_t request_id, const std::string& store_id);
  // Ends a request that will get no (further) answer: the link closed or it timed out.
  // Collects its group into `finished` when it was the group's last. REQUIRES: mu_ held.
  std::map<uint64_t, Pending>::iterator Abandon(std::map<uint64_t, Pending>::iterator it,
                                                std::vector<std::shared_ptr<Group>>* finished);
  void HandleFloating(const ConnectionPtr& conn, const std::string& store_id,
                      const std::vector<IngestOutcome>& outcomes);

  ReplicationContext& ctx_;
  Gossip& gossip_;
  const SyncHold& hold_;
  const std::chrono::milliseconds gap_hold_;
  std::mutex mu_;
  std::map<uint64_t, Pending> pending_;  // by request id, unique across connections
  // The hashes of each pending reconciliation request (marked in asked_ while on their way).
  std::map<uint64_t, std::vector<std::string>> in_flight_;
  uint64_t next_request_id_ = 1;
  // (store, hash) of dependencies asked for, and when.
  // (Those waiting in gaps_ count as asked, so the sweep does not ask for them meanwhile.)
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> asked_;
  std::vector<Gap> gaps_;
  size_t waiting_hashes_ = 0;  // in gaps_
};

}  // namespace lattice::kernel::replication
