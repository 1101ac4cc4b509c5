#include "replication/peer_connection.h"

#include "lattice/common/status.h"

#include "dag/hlc.h"

namespace lattice::kernel::replication {

PeerConnection::PeerConnection(std::shared_ptr<net::Link> link)
    : link_(std::move(link)), connected_ms_(HybridClock::SystemWallMs()) {
  last_seen_ms_.store(connected_ms_);
}

absl::Status PeerConnection::Send(const v1::PeerMessage& message,
                                  std::chrono::milliseconds max_wait) {
  return link_->Send(message.SerializeAsString(), max_wait);
}

}  // namespace lattice::kernel::replication
