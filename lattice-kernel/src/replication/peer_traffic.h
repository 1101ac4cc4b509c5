// What the links to each peer carried over the kernel's life (Admin.Metrics): the counts of
// its live link plus those of every link to it that closed, so the figures only grow while
// links come and go.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "replication/peer_connection.h"

namespace lattice::kernel::replication {

struct PeerTrafficTotals {
  uint64_t bytes_sent = 0;      // on the wire, framing and encryption included
  uint64_t bytes_received = 0;
  uint64_t round_trips = 0;     // Negentropy messages answered, either side
  bool connected = false;       // a link to the peer is open now
};

// Thread-safe. Opened and Closed run once per link, Snapshot once per metrics call; the
// links count their own bytes and round trips without it.
class PeerTraffic {
 public:
  // `conn` carries traffic of its peer from now on.
  void Opened(const ConnectionPtr& conn);
  // `conn` closed: its final counts join its peer's ended totals.
  void Closed(const PeerConnection& conn);
  // By peer id (raw).
  std::map<std::string, PeerTrafficTotals> Snapshot() const;

 private:
  mutable std::mutex mu_;
  // Weak: a link that went without Closed (it never started) must not be kept alive here.
  std::map<const PeerConnection*, std::weak_ptr<PeerConnection>> live_;
  std::map<std::string, PeerTrafficTotals> ended_;  // grows with the peers ever linked
};

}  // namespace lattice::kernel::replication
