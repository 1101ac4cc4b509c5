// Bootstrap (DESIGN §7): a store this node has just learnt of (a joined mesh's root, a new
// child store) is streamed from one peer in that peer's witness order, so dependencies
// always arrive first; each chunk is verified on ingest and the progress is kept in the
// node database, so an interrupted bootstrap resumes where it stopped. Afterwards the store
// is kept up to date by gossip and reconciliation like any other.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lattice/v1/node_records.pb.h"
#include "replication/gossip.h"
#include "replication/replication_context.h"

namespace lattice::kernel::replication {

struct BootstrapState {
  v1::BootstrapRecord record;
  bool running = false;  // a chunk is being fetched now
};

// Thread-safe.
class Bootstrapper {
 public:
  // Runs (on a link's thread) when a store's bootstrap completes.
  using Completed = std::function<void(const ConnectionPtr& from, const std::string& store_id)>;

  // A bootstrap whose peer sent nothing for `stall_timeout` is given up (Sweep).
  Bootstrapper(ReplicationContext& ctx, Gossip& gossip, std::chrono::milliseconds stall_timeout,
               Completed completed);

  // True when the store must be bootstrapped: it began one that is not done, or it has
  // never had one and holds nothing yet.
  bool Needed(const std::string& store_id);
  // Starts (or resumes) the bootstrap of `store_id` from `conn` unless one is running.
  // A resume from another peer than before starts over, since witness numbers are that
  // peer's own; what arrives twice is recognised and skipped by the store.
  void Start(const ConnectionPtr& conn, const std::string& store_id);

  void OnRequest(const ConnectionPtr& conn, const v1::BootstrapRequest& request);
  void OnChunk(const ConnectionPtr& conn, const v1::BootstrapChunk& chunk);
  void OnClosed(const PeerConnection* conn);
  // Gives up on bootstraps whose peer stopped answering (a lost chunk, a peer that lies
  // about holding the store), so the next maintenance pass starts them again, from
  // another peer when there is one.
  void Sweep();

  // Every bootstrap begun since the store was learnt of, done or not.
  std::vector<v1::BootstrapRecord> Progress();

 private:
  std::optional<v1::BootstrapRecord> Load(const std::string& store_id);
  void Save(const v1::BootstrapRecord& record);
  void Request(PeerConnection& conn, const std::string& store_id, uint64_t after);

  ReplicationContext& ctx_;
  Gossip& gossip_;
  const std::chrono::milliseconds stall_timeout_;
  Completed completed_;
  std::mutex mu_;
  // True when `peer` stalled a bootstrap of `store_id` lately, so others go first.
  bool StalledLately(const std::string& store_id, const std::string& peer,
                     std::chrono::steady_clock::time_point now);

  struct Running {
    const PeerConnection* conn = nullptr;
    std::string peer_id;
    std::chrono::steady_clock::time_point last_activity;
  };
  std::map<std::string, Running> running_;  // by store
  struct Stalled {
    std::string peer_id;
    std::chrono::steady_clock::time_point at;
  };
  // The peer that last stopped answering a store's bootstrap, so that the next attempt
  // asks another peer rather than the same mute one again.
  std::map<std::string, Stalled> stalled_;  // by store
  // Interrupted bootstraps waiting for their source to reconnect, since when.
  std::map<std::string, std::chrono::steady_clock::time_point> source_awaited_since_;
};

}  // namespace lattice::kernel::replication
