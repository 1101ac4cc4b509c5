// One live link to a peer node, as replication uses it: typed sends, ids for requests and
// sessions, when the peer was last heard from. The link's reader thread delivers the peer's
// messages; everything here may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "lattice/v1/replication.pb.h"
#include "net/transport.h"

namespace lattice::kernel::replication {

class PeerConnection {
 public:
  explicit PeerConnection(std::shared_ptr<net::Link> link);

  const std::string& peer_id() const { return link_->peer_id(); }
  bool dialed() const { return link_->dialed(); }
  const std::string& remote_address() const { return link_->remote_address(); }
  const std::string& invite_id() const { return link_->invite_id(); }
  bool open() const { return link_->open(); }
  net::LinkStats stats() const { return link_->stats(); }
  net::Link& link() { return *link_; }

  // Queues `message`; waits up to `max_wait` for room (see net::Link::Send). A message that
  // could not be queued is lost, which replication tolerates (anti-entropy repairs it).
  absl::Status Send(const v1::PeerMessage& message,
                    std::chrono::milliseconds max_wait = std::chrono::milliseconds(0));
  void ReportInvalid(std::string_view what) { link_->ReportInvalid(what); }
  void Close(std::string_view reason) { link_->Close(reason); }

  void Touch(uint64_t now_ms) { last_seen_ms_.store(now_ms); }
  uint64_t last_seen_ms() const { return last_seen_ms_.load(); }
  uint64_t connected_ms() const { return connected_ms_; }
  // A Negentropy message of this link was answered (by either side); for Admin.Metrics.
  void CountRoundTrip() { round_trips_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t round_trips() const { return round_trips_.load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<net::Link> link_;
  std::atomic<uint64_t> last_seen_ms_{0};
  std::atomic<uint64_t> round_trips_{0};
  uint64_t connected_ms_ = 0;
};

using ConnectionPtr = std::shared_ptr<PeerConnection>;

}  // namespace lattice::kernel::replication
