#include "replication/gossip.h"

#include "lattice/common/status.h"

#include <spdlog/spdlog.h>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"

namespace lattice::kernel::replication {

Gossip::Gossip(ReplicationContext& ctx) : ctx_(ctx) {
  thread_ = std::thread([this] { Run(); });
}

Gossip::~Gossip() { Stop(); }

void Gossip::Stop() {
  std::map<Store*, uint64_t> subscriptions;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    subscriptions.swap(subscriptions_);
  }
  for (auto& [store, id] : subscriptions) store->Unsubscribe(id);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Gossip::Watch(Store* store) {
  std::lock_guard lock(mu_);
  if (stopping_ || subscriptions_.count(store)) return;
  std::string store_id = store->id();
  subscriptions_[store] = store->Subscribe(
      [this, store_id](const std::vector<DecodedIntention>& applied) { OnApplied(store_id, applied); });
}

std::vector<IngestOutcome> Gossip::IngestFrom(const ConnectionPtr& from, Store& store,
                                              const std::vector<v1::SignedIntention>& intentions,
                                              bool forward) {
  std::vector<std::string> hashes;
  hashes.reserve(intentions.size());
  {
    std::lock_guard lock(origins_mu_);
    for (const auto& intention : intentions) {
      hashes.push_back(Blake2b256(intention.body()));
      Origin& origin = origins_[hashes.back()];
      origin.peer = from->peer_id();
      origin.forward = forward;
      ++origin.refs;
    }
  }
  std::vector<IngestOutcome> outcomes = store.Ingest(intentions);
  {
    std::lock_guard lock(origins_mu_);
    for (const auto& hash : hashes) {
      auto it = origins_.find(hash);
      if (it != origins_.end() && --it->second.refs <= 0) origins_.erase(it);
    }
  }
  for (const auto& outcome : outcomes) {
    if (outcome.kind == IngestOutcome::Kind::kRejected && outcome.malformed) {
      spdlog::warn("peer {}: store {}: refused intention {}: {}", ShortHex(from->peer_id()),
                   ShortHex(store.id()), ShortHex(outcome.hash), outcome.reason);
      from->ReportInvalid(outcome.reason);
    }
  }
  return outcomes;
}

void Gossip::OnApplied(const std::string& store_id, const std::vector<DecodedIntention>& applied) {
  // Runs on the store's writer: sort by origin and queue, nothing more.
  std::map<std::string, std::vector<v1::SignedIntention>> by_exception;
  {
    std::lock_guard lock(origins_mu_);
    for (const auto& intention : applied) {
      auto it = origins_.find(intention.hash);
      if (it == origins_.end()) {
        by_exception[""].push_back(intention.signed_intention);
      } else if (it->second.forward) {
        by_exception[it->second.peer].push_back(intention.signed_intention);
      }
    }
  }
  if (by_exception.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& [except, intentions] : by_exception) {
      if (queue_.size() >= limits::kMaxGossipQueue) {
        stats_.dropped += intentions.size();
        continue;
      }
      queue_.push_back(Outgoing{store_id, std::move(intentions), except});
    }
  }
  cv_.notify_one();
}

uint64_t Gossip::SendBatch(PeerConnection& to, const std::string& store_id,
                           const std::vector<v1::SignedIntention>& signed_intentions, bool gossip,
                           std::chrono::milliseconds max_wait) {
  uint64_t sent = 0;
  size_t i = 0;
  while (i < signed_intentions.size()) {
    v1::PeerMessage message;
    v1::IntentionPush* push = message.mutable_push();
    push->set_store_id(store_id);
    push->set_gossip(gossip);
    size_t bytes = 0;
    while (i < signed_intentions.size() &&
           static_cast<size_t>(push->intentions_size()) < limits::kMaxIntentionsPerMessage &&
           (push->intentions_size() == 0 ||
            bytes + PackedSize(signed_intentions[i]) <= limits::kTargetMessageBytes)) {
      bytes += PackedSize(signed_intentions[i]);
      *push->add_intentions() = signed_intentions[i];
      ++i;
    }
    if (to.Send(message, max_wait).ok()) sent += push->intentions_size();
  }
  return sent;
}

void Gossip::Run() {
  while (true) {
    Outgoing next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    for (const auto& peer : ctx_.PeersOf(next.store_id)) {
      if (peer->peer_id() == next.except_peer) continue;
      uint64_t sent = SendBatch(*peer, next.store_id, next.intentions, /*gossip=*/true,
                                std::chrono::milliseconds(0));
      std::lock_guard lock(mu_);
      stats_.pushed += sent;
      stats_.dropped += next.intentions.size() - sent;
    }
  }
}

GossipStats Gossip::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace lattice::kernel::replication
