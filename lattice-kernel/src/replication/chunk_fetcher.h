// Fetching the chunks of fs stores (DESIGN §5): every node keeps a full replica, so the
// chunks that applied intentions cite and this node lacks (the store's wants, chunk_wants.h)
// are asked of the store's connected peers by hash as soon as they are wanted. Each chunk
// that arrives is checked against its hash before anything of it is kept; a peer that sends
// bytes that do not match is cut off. Also answers peers' chunk requests from the chunk
// store, a bounded number of chunks and bytes per message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lattice/v1/replication.pb.h"
#include "replication/replication_context.h"

namespace lattice::kernel::replication {

struct ChunkFetchStats {
  uint64_t chunks_received = 0;  // verified and stored
  uint64_t bytes_received = 0;
  uint64_t chunks_served = 0;
  uint64_t bytes_served = 0;
  uint64_t peers_cut_off = 0;    // for chunks that did not match their hash
};

// Thread-safe.
class ChunkFetcher {
 public:
  // Disconnects a misbehaving peer and keeps it away for a while (the replicator's backoff).
  using CutOff = std::function<void(const ConnectionPtr& conn, const std::string& why)>;

  ChunkFetcher(ReplicationContext& ctx, CutOff cut_off)
      : ctx_(ctx), cut_off_(std::move(cut_off)) {}

  // Asks connected peers for what every fs store wants, within the in-flight limits, and
  // gives up on requests that timed out. Called every tick of the replicator.
  void Sweep();

  void OnRequest(const ConnectionPtr& conn, const v1::ChunkRequest& request);
  void OnResponse(const ConnectionPtr& conn, const v1::ChunkResponse& response);
  void OnClosed(const PeerConnection* conn);

  ChunkFetchStats stats() const;

 private:
  struct Pending {
    const PeerConnection* conn_key = nullptr;
    std::string peer_id;
    std::string store_id;
    std::set<std::string> hashes;  // asked and not answered yet
    std::chrono::steady_clock::time_point sent;
  };
  // Per (store, hash): the peers that said they do not hold it, and when the last did.
  struct Tried {
    std::set<std::string> peers;
    std::chrono::steady_clock::time_point when;
  };
  using Key = std::pair<std::string, std::string>;  // (store id, chunk hash)

  // Asks for what `store_id` wants. Called by Sweep and when an answer frees a slot.
  void FetchFor(const std::string& store_id);
  // Ends request `it`: its unanswered hashes may be asked again. REQUIRES: mu_ held.
  std::map<uint64_t, Pending>::iterator Forget(std::map<uint64_t, Pending>::iterator it);

  ReplicationContext& ctx_;
  CutOff cut_off_;
  mutable std::mutex mu_;
  std::map<uint64_t, Pending> pending_;  // by request id
  std::map<Key, uint64_t> asking_;       // hashes on their way, by the request asking
  std::map<Key, Tried> tried_;
  std::map<const PeerConnection*, size_t> in_flight_;  // requests per peer
  // Per store: the last want read by the previous pass, so passes page through every want
  // (wrapping around) and wants no peer holds cannot starve the ones after them.
  std::map<std::string, std::string> cursor_;
  uint64_t next_request_id_ = 1;
  size_t next_peer_ = 0;  // round-robin start
  ChunkFetchStats stats_;
};

}  // namespace lattice::kernel::replication
