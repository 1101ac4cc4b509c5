#include "replication/gossip.h"

#include "lattice/common/status.h"

#include <spdlog/spdlog.h>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"

namespace lattice::kernel::replication {

Gossip::Gossip(ReplicationContext& ctx, std::string self_id, SyncHold& hold)
    : ctx_(ctx),
      hold_(hold),
      self_id_(std::move(self_id)),
      self_reached_id_(ReachedId(self_id_)) {
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

std::string Gossip::ReachedId(std::string_view node_id) {
  return std::string(node_id.substr(0, limits::kReachedIdBytes));
}

std::vector<IngestOutcome> Gossip::IngestFrom(const ConnectionPtr& from, Store& store,
                                              const std::vector<v1::SignedIntention>& intentions,
                                              bool forward, std::vector<std::string> reached) {
  std::set<std::string> reached_set(reached.begin(), reached.end());
  reached_set.insert(ReachedId(from->peer_id()));
  std::vector<std::string> hashes;
  hashes.reserve(intentions.size());
  {
    std::lock_guard lock(origins_mu_);
    for (const auto& intention : intentions) {
      hashes.push_back(Blake2b256(intention.body()));
      Origin& origin = origins_[hashes.back()];
      origin.forward = forward;
      origin.reached = reached_set;
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
  // Runs on the store's writer: sort by what the pushes reached and queue, nothing more.
  // With no peer linked there is no one to push to, and waking the sender for each commit
  // would cost a context switch per write; a peer that links later reconciles on connect.
  if (ctx_.connections.Empty()) return;
  std::map<std::set<std::string>, std::vector<v1::SignedIntention>> by_reached;
  {
    std::lock_guard lock(origins_mu_);
    for (const auto& intention : applied) {
      auto it = origins_.find(intention.hash);
      if (it == origins_.end()) {
        // Written here; or a peer's, released from the floating index after its last
        // dependency came: how it came is forgotten, and reconciliation spreads it.
        if (intention.body.author() == self_id_) by_reached[{}].push_back(intention.signed_intention);
      } else if (it->second.forward) {
        by_reached[it->second.reached].push_back(intention.signed_intention);
      }
    }
  }
  if (by_reached.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& [reached, intentions] : by_reached) {
      if (queue_.size() >= limits::kMaxGossipQueue) {
        stats_.dropped += intentions.size();
        continue;
      }
      hold_.Queued(store_id, intentions.size());
      queue_.push_back(Outgoing{store_id, std::move(intentions), reached});
    }
  }
  cv_.notify_one();
}

uint64_t Gossip::SendBatch(PeerConnection& to, const std::string& store_id,
                           const std::vector<v1::SignedIntention>& signed_intentions, bool gossip,
                           std::chrono::milliseconds max_wait,
                           const std::vector<std::string>& reached) {
  uint64_t sent = 0;
  size_t i = 0;
  while (i < signed_intentions.size()) {
    v1::PeerMessage message;
    v1::IntentionPush* push = message.mutable_push();
    push->set_store_id(store_id);
    push->set_gossip(gossip);
    for (const auto& id : reached) push->add_reached(id);
    i = PackIntentions(signed_intentions, i, push->mutable_intentions());
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
      // Writes that queued up behind each other for the same nodes leave as one push: the
      // push's own bytes (store, reached list, frame) are paid once.
      while (!queue_.empty() && queue_.front().store_id == next.store_id &&
             queue_.front().reached == next.reached &&
             next.intentions.size() + queue_.front().intentions.size() <=
                 limits::kMaxIntentionsPerMessage) {
        for (auto& intention : queue_.front().intentions) {
          next.intentions.push_back(std::move(intention));
        }
        queue_.pop_front();
      }
    }
    std::vector<ConnectionPtr> targets;
    for (auto& peer : ctx_.PeersOf(next.store_id)) {
      if (!next.reached.count(ReachedId(peer->peer_id()))) targets.push_back(std::move(peer));
    }
    if (targets.empty()) {
      hold_.Dequeued(next.store_id, next.intentions.size(), {});  // nothing went out
      continue;
    }
    // Everyone this push reaches, for the receivers to skip when they forward it.
    std::set<std::string> reached = next.reached;
    reached.insert(self_reached_id_);
    for (const auto& peer : targets) reached.insert(ReachedId(peer->peer_id()));
    // When the push itself reaches every member of the mesh no receiver has anyone left to
    // forward it to: it goes as a plain push, without the list (in a full mesh the list
    // would cost about half of a small intention again, on every link).
    bool forward = false;
    for (const auto& member : ctx_.MembersOf(next.store_id)) {
      if (!reached.count(ReachedId(member))) forward = true;
    }
    std::vector<std::string> listed;
    if (forward) listed.assign(reached.begin(), reached.end());
    if (listed.size() > limits::kMaxReachedPerPush) listed.resize(limits::kMaxReachedPerPush);
    for (const auto& peer : targets) {
      uint64_t sent = SendBatch(*peer, next.store_id, next.intentions, /*gossip=*/forward,
                                std::chrono::milliseconds(0), listed);
      std::lock_guard lock(mu_);
      stats_.pushed += sent;
      stats_.dropped += next.intentions.size() - sent;
    }
    hold_.Dequeued(next.store_id, next.intentions.size(), std::chrono::steady_clock::now());
  }
}

GossipStats Gossip::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace lattice::kernel::replication
