// Replicator: reaching the other members. Each maintenance pass dials the members of every
// mesh that have no link, at the addresses they announce in the root store, with a backoff
// per peer; AnnounceSelf keeps this node's own addresses there current.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "net/address.h"
#include "replication/replication_limits.h"
#include "replication/replicator.h"
#include "state/root_rules.h"

namespace lattice::kernel::replication {

using Clock = std::chrono::steady_clock;

namespace {

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

}  // namespace

void Replicator::DialMissingPeers() {
  std::map<std::string, std::vector<std::string>> targets;
  for (const auto& mesh : node_.Meshes()) {
    std::string mesh_id = *ParseStoreId(mesh.root_store_id());
    auto active = membership_.Active(mesh_id);
    for (const auto& member : node_.Members(mesh_id)) {
      if (member.node_id == self_id_ || member.addresses.empty()) continue;
      // Revoked members are dialed too, with the usual backoff, only to trade what each
      // side knows of revocations (TradeRevocations).
      if (!active.count(member.node_id) && member.status != kMemberRevoked) continue;
      auto& addresses = targets[member.node_id];
      for (const auto& a : member.addresses) {
        if (addresses.size() < limits::kMaxAddresses &&
            std::find(addresses.begin(), addresses.end(), a) == addresses.end()) {
          addresses.push_back(a);
        }
      }
    }
  }
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  // Reap the dials that ended (they finish within the handshake timeout).
  for (auto it = dial_threads_.begin(); it != dial_threads_.end();) {
    if (!it->done->load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = dial_threads_.erase(it);
  }
  for (auto& [peer, addresses] : targets) {
    if (connections_.Get(peer)) continue;
    if (auto ban = banned_until_.find(peer); ban != banned_until_.end() && now < ban->second) continue;
    DialState& state = dials_[peer];
    if (state.dialing || now < state.next_attempt) continue;
    if (active_dials_ >= limits::kMaxConcurrentDials) break;
    state.dialing = true;
    ++active_dials_;
    auto done = std::make_shared<std::atomic<bool>>(false);
    dial_threads_.push_back(DialThread{std::thread([this, done, peer = peer, addresses = addresses] {
                                         Dial(peer, addresses);
                                         done->store(true);
                                       }),
                                       done});
  }
}

void Replicator::Dial(std::string peer_id, std::vector<std::string> addresses) {
  bool linked = false;
  absl::Status last;
  for (const auto& address : addresses) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    net::DialRequest request;
    request.address = address;
    request.expected_node_id = peer_id;
    auto link = transport_->Dial(request);
    if (link.ok()) {
      OnLink(*std::move(link));
      linked = true;
      break;
    }
    last = link.status();
  }
  std::lock_guard lock(mu_);
  --active_dials_;
  DialState& state = dials_[peer_id];
  state.dialing = false;
  if (linked) return;  // the backoff is judged when the link closes (OnClose)
  state.backoff = std::clamp(state.backoff * 2, options_.min_dial_backoff, options_.max_dial_backoff);
  state.next_attempt = Clock::now() + state.backoff;
  spdlog::debug("dialing peer {} failed ({}), next try in {} ms", ShortHex(peer_id),
                last.message(), state.backoff.count());
}

void Replicator::AnnounceSelf() {
  std::string self_hex = ToHex(self_id_);
  std::string addrs = JoinList(advertised_);
  for (const auto& mesh : node_.Meshes()) {
    std::string mesh_id = *ParseStoreId(mesh.root_store_id());
    if (!membership_.IsActive(mesh_id, self_id_)) continue;  // not yet (a join in progress)
    Store* root = node_.RootOf(mesh_id);
    if (root == nullptr) continue;
    auto me = node_.Member(mesh_id, self_id_);
    std::vector<KvWrite> writes;
    if (me && JoinList(me->addresses) != addrs) {
      writes.push_back({fmt::format("/nodes/{}/addrs", self_hex), addrs, addrs.empty()});
    }
    if (!mesh.own()) {
      std::string name = mesh.name().empty() ? node_.name() : mesh.name();
      if (me && !name.empty() && me->name != name) {
        writes.push_back({fmt::format("/nodes/{}/name", self_hex), name, false});
      }
    }
    if (writes.empty()) continue;
    if (auto s = root->WriteKv(std::move(writes)); !s.ok()) {
      spdlog::warn("mesh {}: announcing this node failed: {}", mesh.root_store_id(),
                   s.status().message());
    }
  }
}

}  // namespace lattice::kernel::replication
