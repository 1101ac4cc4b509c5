#include "replication/fetcher.h"

#include "lattice/common/status.h"

#include <spdlog/spdlog.h>

#include "lattice/common/hex.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"

namespace lattice::kernel::replication {

using Clock = std::chrono::steady_clock;

void Fetcher::Request(const ConnectionPtr& conn, const std::string& store_id,
                      std::vector<std::string> hashes, Done done) {
  auto group = std::make_shared<Group>();
  group->done = std::move(done);
  if (hashes.empty()) {
    Finish(group);
    return;
  }
  size_t batches = (hashes.size() + limits::kMaxHashesPerFetch - 1) / limits::kMaxHashesPerFetch;
  group->pending = batches;
  for (size_t start = 0; start < hashes.size(); start += limits::kMaxHashesPerFetch) {
    size_t end = std::min(hashes.size(), start + limits::kMaxHashesPerFetch);
    SendRequest(conn, store_id, {hashes.begin() + start, hashes.begin() + end}, group,
                /*for_dependencies=*/false, {});
  }
}

void Fetcher::SendRequest(const ConnectionPtr& conn, const std::string& store_id,
                          std::vector<std::string> hashes, std::shared_ptr<Group> group,
                          bool for_dependencies, std::set<std::string> tried) {
  v1::PeerMessage message;
  v1::FetchRequest* request = message.mutable_fetch();
  request->set_store_id(store_id);
  tried.insert(conn->peer_id());
  {
    std::lock_guard lock(mu_);
    // Batches of one reconciliation may be answered in any order; a dependency that is
    // already on its way must not be asked for again when its dependent floats meanwhile.
    auto now = Clock::now();
    for (const auto& hash : hashes) asked_[{store_id, hash}] = now;
    uint64_t id = next_request_id_++;
    request->set_request_id(id);
    for (const auto& hash : hashes) request->add_hashes(hash);
    pending_[id] = Pending{conn, conn.get(), store_id, now, group, for_dependencies,
                           std::move(tried)};
    if (!for_dependencies) in_flight_[id] = std::move(hashes);
  }
  // Waiting for room here only slows this fetch; the request stays pending either way and
  // times out if it was lost.
  (void)conn->Send(message, std::chrono::milliseconds(2000));
}

void Fetcher::Finish(const std::shared_ptr<Group>& group) {
  if (group && group->done) group->done(group->outcome);
}

void Fetcher::FetchMissing(const ConnectionPtr& preferred, const std::string& store_id,
                           const std::vector<std::string>& missing) {
  std::vector<std::string> ask;
  {
    std::lock_guard lock(mu_);
    ask = MarkAsked(store_id, missing, Clock::now());
  }
  if (!ask.empty()) Ask(preferred, store_id, ask);
}

std::vector<std::string> Fetcher::MarkAsked(const std::string& store_id,
                                            const std::vector<std::string>& missing,
                                            Clock::time_point now) {
  std::vector<std::string> fresh;
  for (const auto& hash : missing) {
    auto key = std::make_pair(store_id, hash);
    auto it = asked_.find(key);
    if (it != asked_.end() && now - it->second < limits::kFetchTimeout) continue;
    asked_[key] = now;
    fresh.push_back(hash);
  }
  return fresh;
}

void Fetcher::Ask(ConnectionPtr preferred, const std::string& store_id,
                  const std::vector<std::string>& hashes) {
  ConnectionPtr to = std::move(preferred);
  if (!to || !to->open()) {
    auto peers = ctx_.PeersOf(store_id);
    if (peers.empty()) return;
    to = peers[std::hash<std::string>()(hashes.front()) % peers.size()];
  }
  for (size_t start = 0; start < hashes.size(); start += limits::kMaxHashesPerFetch) {
    size_t end = std::min(hashes.size(), start + limits::kMaxHashesPerFetch);
    auto group = std::make_shared<Group>();
    group->pending = 1;
    SendRequest(to, store_id, {hashes.begin() + start, hashes.begin() + end}, group,
                /*for_dependencies=*/true, {});
  }
}

void Fetcher::FetchMissingLater(const ConnectionPtr& preferred, const std::string& store_id,
                                const std::vector<std::string>& missing) {
  Gap gap{preferred, store_id, {}, Clock::now()};
  {
    std::lock_guard lock(mu_);
    if (waiting_hashes_ + missing.size() <= limits::kMaxWaitingHashes) {
      gap.hashes = MarkAsked(store_id, missing, gap.since);
      waiting_hashes_ += gap.hashes.size();
      if (!gap.hashes.empty()) gaps_.push_back(std::move(gap));
      return;
    }
  }
  FetchMissing(preferred, store_id, missing);
}

void Fetcher::OnOffer(const ConnectionPtr& conn, const v1::IntentionOffer& offer) {
  {
    std::lock_guard lock(mu_);
    if (waiting_hashes_ + offer.hashes_size() > limits::kMaxWaitingHashes ||
        asked_.size() + offer.hashes_size() > limits::kMaxAskedHashes) {
      return;
    }
  }
  FetchMissingLater(conn, offer.store_id(), {offer.hashes().begin(), offer.hashes().end()});
}

void Fetcher::FetchSettledGaps() {
  auto now = Clock::now();
  std::vector<Gap> settled;
  {
    std::lock_guard lock(mu_);
    for (auto it = gaps_.begin(); it != gaps_.end();) {
      if (hold_.Holds(it->store_id, it->since, now, gap_hold_)) {
        ++it;
        continue;
      }
      waiting_hashes_ -= it->hashes.size();
      settled.push_back(std::move(*it));
      it = gaps_.erase(it);
    }
  }
  for (auto& gap : settled) {
    Store* store = ctx_.node.StoreById(gap.store_id);
    if (store == nullptr) continue;
    // Should the store not answer, asking for everything costs bytes, not correctness.
    auto lacking = store->Lacking(gap.hashes);
    const auto& ask = lacking.ok() ? *lacking : gap.hashes;
    if (!ask.empty()) Ask(gap.preferred.lock(), gap.store_id, ask);
  }
}

void Fetcher::OnRequest(const ConnectionPtr& conn, const v1::FetchRequest& request) {
  v1::PeerMessage reply;
  v1::FetchResponse* response = reply.mutable_fetched();
  response->set_store_id(request.store_id());
  response->set_request_id(request.request_id());
  Store* store = ctx_.StoreFor(conn->peer_id(), request.store_id());
  std::vector<v1::SignedIntention> found;
  std::vector<std::string> unknown;
  if (store == nullptr) {
    unknown.assign(request.hashes().begin(), request.hashes().end());
  } else {
    std::vector<std::string> hashes(request.hashes().begin(), request.hashes().end());
    if (auto s = store->FindInWitnessOrder(hashes, &found, &unknown); !s.ok()) {
      spdlog::error("store {}: answering a fetch failed: {}", ShortHex(request.store_id()), s.message());
      unknown = std::move(hashes);
      found.clear();
    }
  }
  // Several responses when the intentions do not fit one message; the last says so.
  size_t i = 0;
  do {
    size_t bytes = 0;
    while (i < found.size() &&
           static_cast<size_t>(response->intentions_size()) < limits::kMaxIntentionsPerMessage &&
           (response->intentions_size() == 0 ||
            bytes + PackedSize(found[i]) <= limits::kTargetMessageBytes)) {
      bytes += PackedSize(found[i]);
      *response->add_intentions() = std::move(found[i]);
      ++i;
    }
    bool last = i >= found.size();
    if (last) {
      for (auto& hash : unknown) response->add_unknown(std::move(hash));
      response->set_last(true);
    }
    (void)conn->Send(reply, std::chrono::milliseconds(5000));
    response->clear_intentions();
  } while (i < found.size());
}

void Fetcher::OnResponse(const ConnectionPtr& conn, const v1::FetchResponse& response) {
  Pending pending;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(response.request_id());
    if (it == pending_.end() || it->second.conn_key != conn.get() ||
        it->second.store_id != response.store_id()) {
      // A late answer to a request that timed out, or one we never sent: use what it
      // carries only if we know the store; it cannot hurt (every intention is verified).
      it = pending_.end();
    } else {
      pending = it->second;
      if (response.last()) {
        ForgetInFlight(it->first, pending.store_id);
        pending_.erase(it);
      }
    }
  }
  Store* store = ctx_.StoreFor(conn->peer_id(), response.store_id());
  if (store != nullptr && response.intentions_size() > 0) {
    std::vector<v1::SignedIntention> intentions(response.intentions().begin(),
                                                response.intentions().end());
    auto outcomes = gossip_.IngestFrom(conn, *store, intentions, /*forward=*/false);
    if (pending.group) {
      std::lock_guard lock(mu_);
      pending.group->outcome.received += outcomes.size();
      for (const auto& o : outcomes) {
        if (o.kind == IngestOutcome::Kind::kApplied) ++pending.group->outcome.applied;
      }
    }
    HandleFloating(conn, response.store_id(), outcomes);
  }
  if (!response.last() || !pending.group) return;
  if (response.unknown_size() > 0) {
    {
      std::lock_guard lock(mu_);
      pending.group->outcome.unknown += response.unknown_size();
    }
    if (pending.for_dependencies) {
      // Ask the next peer that has not been asked yet.
      for (const auto& peer : ctx_.PeersOf(response.store_id())) {
        if (pending.tried.count(peer->peer_id())) continue;
        auto group = std::make_shared<Group>();
        group->pending = 1;
        SendRequest(peer, response.store_id(),
                    {response.unknown().begin(), response.unknown().end()}, group, true,
                    pending.tried);
        break;
      }
    }
  }
  bool finished;
  {
    std::lock_guard lock(mu_);
    finished = --pending.group->pending == 0;
  }
  if (finished) Finish(pending.group);
}

void Fetcher::ForgetInFlight(uint64_t request_id, const std::string& store_id) {
  auto it = in_flight_.find(request_id);
  if (it == in_flight_.end()) return;
  for (const auto& hash : it->second) asked_.erase({store_id, hash});
  in_flight_.erase(it);
}

std::map<uint64_t, Fetcher::Pending>::iterator Fetcher::Abandon(
    std::map<uint64_t, Pending>::iterator it, std::vector<std::shared_ptr<Group>>* finished) {
  ForgetInFlight(it->first, it->second.store_id);
  auto group = it->second.group;
  group->outcome.complete = false;
  if (--group->pending == 0) finished->push_back(group);
  return pending_.erase(it);
}

void Fetcher::HandleFloating(const ConnectionPtr& conn, const std::string& store_id,
                             const std::vector<IngestOutcome>& outcomes) {
  std::vector<std::string> missing;
  for (const auto& outcome : outcomes) {
    if (outcome.kind != IngestOutcome::Kind::kFloating) continue;
    missing.insert(missing.end(), outcome.missing.begin(), outcome.missing.end());
  }
  if (!missing.empty()) FetchMissing(conn, store_id, missing);
}

void Fetcher::OnClosed(const PeerConnection* conn) {
  std::vector<std::shared_ptr<Group>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = it->second.conn_key == conn ? Abandon(it, &finished) : std::next(it);
    }
  }
  for (auto& group : finished) Finish(group);
}

void Fetcher::Sweep() {
  auto now = Clock::now();
  std::vector<std::shared_ptr<Group>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = now - it->second.sent >= limits::kFetchTimeout ? Abandon(it, &finished) : std::next(it);
    }
    for (auto it = asked_.begin(); it != asked_.end();) {
      it = now - it->second >= limits::kFetchTimeout ? asked_.erase(it) : std::next(it);
    }
  }
  for (auto& group : finished) Finish(group);
  FetchSettledGaps();
  // Dependencies still missing: ask again (the peer that sent their dependents may be
  // gone, or the first answer may have been lost). Those not asked for yet are found here
  // too when the sweep comes between a push's intention floating and its gap being marked:
  // they wait for the pushes the same way.
  for (const auto& d : ctx_.node.ListStores(/*include_archived=*/true)) {
    Store* store = ctx_.node.StoreById(d.id);
    if (store == nullptr || store->floating_count() == 0) continue;
    FetchMissingLater(nullptr, d.id, store->MissingDependencies(limits::kMaxMissingPerSweep));
  }
}

}  // namespace lattice::kernel::replication
