#include "replication/peer_traffic.h"

namespace lattice::kernel::replication {
namespace {

void Add(PeerTrafficTotals& totals, const PeerConnection& conn) {
  net::LinkStats stats = conn.stats();
  totals.bytes_sent += stats.bytes_sent;
  totals.bytes_received += stats.bytes_received;
  totals.round_trips += conn.round_trips();
}

}  // namespace

void PeerTraffic::Opened(const ConnectionPtr& conn) {
  std::lock_guard lock(mu_);
  live_[conn.get()] = conn;
}

void PeerTraffic::Closed(const PeerConnection& conn) {
  std::lock_guard lock(mu_);
  if (live_.erase(&conn) == 0) return;  // counted already (or never opened)
  Add(ended_[conn.peer_id()], conn);
}

std::map<std::string, PeerTrafficTotals> PeerTraffic::Snapshot() const {
  std::lock_guard lock(mu_);
  std::map<std::string, PeerTrafficTotals> out = ended_;
  for (const auto& [key, weak] : live_) {
    auto conn = weak.lock();
    if (!conn) continue;
    PeerTrafficTotals& totals = out[conn->peer_id()];
    Add(totals, *conn);
    totals.connected = totals.connected || conn->open();
  }
  return out;
}

}  // namespace lattice::kernel::replication
