#include "replication/reconciler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lattice/common/status.h"

#include "dag/hlc.h"
#include "lattice/common/hex.h"
#include "replication/replication_limits.h"
#include "store/sync_snapshot.h"

namespace lattice::kernel::replication {

using Clock = std::chrono::steady_clock;

namespace {

// A reconciliation whose peer says nothing for this long has failed.
constexpr auto kRoundTimeout = std::chrono::seconds(30);

std::vector<std::string> Hashes(const std::vector<sync::ItemId>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.emplace_back(sync::IdBytes(id));
  return out;
}

}  // namespace

struct Reconciler::Initiation {
  uint64_t session_id = 0;
  std::unique_ptr<sync::NegentropySession> session;
  std::weak_ptr<PeerConnection> conn;
  Key key;
  Clock::time_point last_activity;
  SyncReport report;
  size_t fetches_pending = 0;
  bool negentropy_done = false;
  // The session ran out of messages: another one follows once the fetches are answered.
  bool incomplete = false;
  uint64_t found_this_session = 0;
  uint64_t earlier_rounds = 0;  // of the reconciliation's earlier sessions
  uint64_t earlier_bytes = 0;
  bool finished = false;
  std::vector<Done> waiters;
  // What the fetch waits for pushes to settle before it asks (Start): how long at most,
  // the hashes found missing meanwhile, and since when they wait.
  std::chrono::milliseconds fetch_hold{0};
  std::vector<std::string> deferred;
  Clock::time_point deferred_since;
};

void Reconciler::SendRound(PeerConnection& conn, const std::string& store_id,
                           uint64_t session_id, std::string message, bool from_initiator,
                           std::string error) {
  v1::PeerMessage out;
  v1::SyncRound* round = out.mutable_sync();
  round->set_store_id(store_id);
  round->set_session_id(session_id);
  round->set_message(std::move(message));
  round->set_from_initiator(from_initiator);
  round->set_error(std::move(error));
  (void)conn.Send(out, std::chrono::milliseconds(5000));
}

void Reconciler::Start(const ConnectionPtr& conn, const std::string& store_id, Done done) {
  Key key{conn.get(), store_id};
  std::shared_ptr<Initiation> initiation;
  {
    std::unique_lock lock(mu_);
    auto it = initiations_.find(key);
    if (it != initiations_.end() && !it->second->finished) {
      if (!done) return;
      // Someone now waits for this one: it stops waiting for pushes.
      initiation = it->second;
      initiation->waiters.push_back(std::move(done));
      initiation->fetch_hold = {};
      lock.unlock();
      FetchDeferred(initiation);
      return;
    }
    initiation = std::make_shared<Initiation>();
    initiation->session_id = next_session_id_++;
    initiation->conn = conn;
    initiation->key = key;
    initiation->last_activity = Clock::now();
    initiation->report.peer_id = conn->peer_id();
    initiation->report.store_id = store_id;
    if (done) {
      initiation->waiters.push_back(std::move(done));
    } else {
      initiation->fetch_hold = fetch_hold_;
    }
    initiations_[key] = initiation;
    PeerSyncState& state = states_[{conn->peer_id(), store_id}];
    state.peer_id = conn->peer_id();
    state.in_progress = true;
    state.last_started_ms = HybridClock::SystemWallMs();
  }
  Begin(conn, initiation);
}

void Reconciler::Begin(const ConnectionPtr& conn, const std::shared_ptr<Initiation>& initiation) {
  const std::string& store_id = initiation->key.second;
  {
    std::lock_guard lock(mu_);
    ++initiation->report.sessions;
  }
  Store* store = ctx_.StoreFor(conn->peer_id(), store_id);
  if (store == nullptr) {
    MaybeFinish(initiation, "the peer does not share this store");
    return;
  }
  auto session = sync::NegentropySession::Create(sync::Role::kInitiator, options_);
  auto snapshot = SyncSnapshot::Open(*store);
  if (!session.ok() || !snapshot.ok()) {
    MaybeFinish(initiation, std::string(!session.ok() ? session.status().message()
                                                      : snapshot.status().message()));
    return;
  }
  initiation->session = std::make_unique<sync::NegentropySession>(*std::move(session));
  auto first = initiation->session->Initiate(**snapshot);
  if (!first.ok()) {
    MaybeFinish(initiation, std::string(first.status().message()));
    return;
  }
  SendRound(*conn, store_id, initiation->session_id, *std::move(first), /*from_initiator=*/true);
}

void Reconciler::OnRound(const ConnectionPtr& conn, const v1::SyncRound& round) {
  if (round.from_initiator()) {
    OnInitiatorMessage(conn, round);
  } else {
    OnReply(conn, round);
  }
}

void Reconciler::OnInitiatorMessage(const ConnectionPtr& conn, const v1::SyncRound& round) {
  Key key{conn.get(), round.store_id()};
  if (!round.error().empty()) {
    std::lock_guard lock(mu_);
    responders_.erase(key);
    return;
  }
  Store* store = ctx_.StoreFor(conn->peer_id(), round.store_id());
  if (store == nullptr) {
    SendRound(*conn, round.store_id(), round.session_id(), "", false,
              "this node does not share that store with you");
    return;
  }
  if (bootstrapping_ && bootstrapping_(round.store_id())) {
    SendRound(*conn, round.store_id(), round.session_id(), "", false,
              "this node is still bootstrapping that store");
    return;
  }
  std::lock_guard lock(mu_);
  Responder& responder = responders_[key];
  if (!responder.session || responder.session_id != round.session_id()) {
    size_t mine = 0;
    for (const auto& [k, r] : responders_) mine += k.first == conn.get();
    if (mine > limits::kMaxResponderSessions) {
      responders_.erase(key);
      SendRound(*conn, round.store_id(), round.session_id(), "", false,
                "too many reconciliations at once");
      return;
    }
    auto session = sync::NegentropySession::Create(sync::Role::kResponder, options_);
    if (!session.ok()) return;
    responder.session = std::make_unique<sync::NegentropySession>(*std::move(session));
    responder.session_id = round.session_id();
  }
  responder.last_activity = Clock::now();
  auto snapshot = SyncSnapshot::Open(*store);
  absl::StatusOr<sync::ReconcileResult> result =
      snapshot.ok() ? responder.session->Reconcile(**snapshot, round.message())
                    : absl::StatusOr<sync::ReconcileResult>(snapshot.status());
  if (!result.ok()) {
    spdlog::info("peer {}: store {}: reconciliation refused: {}", ShortHex(conn->peer_id()),
                 ShortHex(round.store_id()), result.status().message());
    if (result.status().code() == absl::StatusCode::kInvalidArgument) {
      conn->ReportInvalid(std::string(result.status().message()));
    }
    SendRound(*conn, round.store_id(), round.session_id(), "", false,
              std::string(result.status().message()));
    responders_.erase(key);
    return;
  }
  conn->CountRoundTrip();
  SendRound(*conn, round.store_id(), round.session_id(), result->reply.value_or(""), false);
}

void Reconciler::OnReply(const ConnectionPtr& conn, const v1::SyncRound& round) {
  Key key{conn.get(), round.store_id()};
  std::shared_ptr<Initiation> initiation;
  {
    std::lock_guard lock(mu_);
    auto it = initiations_.find(key);
    if (it == initiations_.end() || it->second->session_id != round.session_id() ||
        it->second->finished || it->second->negentropy_done || !it->second->session) {
      return;  // an answer to a reconciliation that ended
    }
    initiation = it->second;
    initiation->last_activity = Clock::now();
  }
  if (!round.error().empty()) {
    MaybeFinish(initiation, "the peer ended the reconciliation: " + round.error());
    return;
  }
  Store* store = ctx_.StoreFor(conn->peer_id(), round.store_id());
  if (store == nullptr) {
    MaybeFinish(initiation, "the peer no longer shares this store");
    return;
  }
  auto snapshot = SyncSnapshot::Open(*store);
  if (!snapshot.ok()) {
    MaybeFinish(initiation, std::string(snapshot.status().message()));
    return;
  }
  // Only this thread (the link's reader) touches the session while it runs.
  auto result = initiation->session->Reconcile(**snapshot, round.message());
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kInvalidArgument) {
      conn->ReportInvalid(std::string(result.status().message()));
    }
    SendRound(*conn, round.store_id(), round.session_id(), "", true,
              std::string(result.status().message()));
    MaybeFinish(initiation, std::string(result.status().message()));
    return;
  }
  conn->CountRoundTrip();
  const auto& stats = initiation->session->stats();
  {
    std::lock_guard lock(mu_);
    initiation->report.rounds = initiation->earlier_rounds + stats.messages_received;
    initiation->report.bytes =
        initiation->earlier_bytes + stats.bytes_sent + stats.bytes_received;
    initiation->report.had += result->have.size();
    initiation->report.needed += result->need.size();
    initiation->found_this_session += result->have.size() + result->need.size();
    initiation->incomplete = result->incomplete;
  }
  if (!result->have.empty()) {
    std::vector<std::string> to_push;
    bool offer;
    {
      std::lock_guard lock(mu_);
      auto now = Clock::now();
      for (auto& hash : Hashes(result->have)) {
        auto [it, fresh] = pushed_.try_emplace({conn->peer_id(), hash}, now);
        if (fresh || now - it->second >= limits::kFetchTimeout) {
          it->second = now;
          to_push.push_back(std::move(hash));
        }
      }
      // While pushes are in flight the peer is about to receive most of these from their
      // writers: it is told what it lacks and fetches what is still missing once they settle.
      offer = PushesInFlight(*initiation, now);
    }
    if (offer) {
      uint64_t offered = Offer(*conn, round.store_id(), to_push);
      std::lock_guard lock(mu_);
      initiation->report.offered += offered;
    } else {
      std::vector<v1::SignedIntention> found;
      std::vector<std::string> unknown;
      if (!to_push.empty() && store->FindInWitnessOrder(to_push, &found, &unknown).ok()) {
        uint64_t sent = Gossip::SendBatch(*conn, round.store_id(), found, /*gossip=*/false,
                                          std::chrono::milliseconds(5000));
        std::lock_guard lock(mu_);
        initiation->report.sent += sent;
      }
    }
  }
  if (!result->need.empty()) {
    std::vector<std::string> hashes = Hashes(result->need);
    bool defer;
    {
      std::lock_guard lock(mu_);
      auto now = Clock::now();
      // A fetch already deferred takes these too: one fetch is pending for all of them.
      bool deferring = !initiation->deferred.empty();
      defer = deferring || PushesInFlight(*initiation, now);
      if (!deferring) ++initiation->fetches_pending;
      if (defer && !deferring) initiation->deferred_since = now;
      if (defer) {
        for (auto& hash : hashes) initiation->deferred.push_back(std::move(hash));
      }
    }
    if (!defer) Fetch(conn, initiation, std::move(hashes));
  }
  if (result->reply) {
    SendRound(*conn, round.store_id(), round.session_id(), *std::move(result->reply), true);
    return;
  }
  {
    std::lock_guard lock(mu_);
    initiation->negentropy_done = true;
  }
  MaybeFinish(initiation);
}

bool Reconciler::PushesInFlight(const Initiation& initiation, Clock::time_point now) const {
  return initiation.fetch_hold.count() > 0 &&
         hold_.Holds(initiation.key.second, now, now, initiation.fetch_hold);
}

uint64_t Reconciler::Offer(PeerConnection& conn, const std::string& store_id,
                           const std::vector<std::string>& hashes) {
  uint64_t offered = 0;
  for (size_t start = 0; start < hashes.size(); start += limits::kMaxHashesPerFetch) {
    size_t end = std::min(hashes.size(), start + limits::kMaxHashesPerFetch);
    v1::PeerMessage message;
    v1::IntentionOffer* offer = message.mutable_offer();
    offer->set_store_id(store_id);
    for (size_t i = start; i < end; ++i) offer->add_hashes(hashes[i]);
    if (conn.Send(message, std::chrono::milliseconds(5000)).ok()) offered += end - start;
  }
  return offered;
}

void Reconciler::Fetch(const ConnectionPtr& conn, const std::shared_ptr<Initiation>& initiation,
                       std::vector<std::string> hashes) {
  fetcher_.Request(conn, initiation->key.second, std::move(hashes),
                   [this, initiation](const FetchOutcome& outcome) {
                     {
                       std::lock_guard lock(mu_);
                       initiation->report.fetched += outcome.received;
                       --initiation->fetches_pending;
                     }
                     MaybeFinish(initiation, outcome.complete ? "" : "a fetch was not answered");
                   });
}

void Reconciler::FetchDeferred(const std::shared_ptr<Initiation>& initiation) {
  std::vector<std::string> hashes;
  ConnectionPtr conn;
  {
    std::lock_guard lock(mu_);
    if (initiation->deferred.empty()) return;
    hashes.swap(initiation->deferred);
    conn = initiation->conn.lock();
  }
  const std::string& store_id = initiation->key.second;
  Store* store = conn ? ctx_.StoreFor(conn->peer_id(), store_id) : nullptr;
  if (store == nullptr) {
    {
      std::lock_guard lock(mu_);
      --initiation->fetches_pending;
    }
    MaybeFinish(initiation, conn ? "the peer no longer shares this store" : "the link closed");
    return;
  }
  // Should the store not answer, asking for everything costs bytes, not correctness.
  auto lacking = store->Lacking(hashes);
  if (lacking.ok()) {
    std::lock_guard lock(mu_);
    initiation->report.arrived += hashes.size() - lacking->size();
  }
  Fetch(conn, initiation, lacking.ok() ? *std::move(lacking) : std::move(hashes));
}

void Reconciler::MaybeFinish(const std::shared_ptr<Initiation>& initiation,
                             const std::string& error) {
  std::vector<Done> waiters;
  SyncReport report;
  std::string failure = error;
  bool continuing = false;
  {
    std::lock_guard lock(mu_);
    if (initiation->finished) return;
    if (error.empty() && (!initiation->negentropy_done || initiation->fetches_pending > 0)) return;
    initiation->finished = true;
    if (error.empty() && initiation->incomplete) {
      // Without progress another session would find the same nothing.
      continuing = initiation->found_this_session > 0;
      if (!continuing) {
        failure = fmt::format("a reconciliation session of {} messages found no difference",
                              initiation->session->stats().messages_received);
      }
    }
  }
  if (continuing) {
    Continue(initiation);
    return;
  }
  {
    std::lock_guard lock(mu_);
    initiation->report.ok = failure.empty();
    initiation->report.error = failure;
    report = initiation->report;
    waiters.swap(initiation->waiters);
    auto it = initiations_.find(initiation->key);
    if (it != initiations_.end() && it->second == initiation) initiations_.erase(it);
    PeerSyncState& state = states_[{report.peer_id, report.store_id}];
    state.in_progress = false;
    state.last_error = failure;
    uint64_t resolved_here = report.fetched + report.arrived;
    uint64_t unresolved = (report.needed - std::min(report.needed, resolved_here)) +
                          (report.had - std::min(report.had, report.sent + report.offered));
    if (report.ok) {
      state.last_sync_ms = HybridClock::SystemWallMs();
      state.lag = unresolved;
    }
  }
  if (!report.ok) {
    spdlog::debug("peer {}: store {}: reconciliation failed: {}", ShortHex(report.peer_id),
                  ShortHex(report.store_id), report.error);
  } else if (report.needed + report.had > 0) {
    spdlog::debug("peer {}: store {}: reconciled in {} rounds, {} bytes: fetched {} of {} "
                  "missing here ({} more came in pushes meanwhile), sent {} and offered {} of {} "
                  "missing there",
                  ShortHex(report.peer_id), ShortHex(report.store_id), report.rounds,
                  report.bytes, report.fetched, report.needed, report.arrived, report.sent,
                  report.offered, report.had);
  }
  for (auto& done : waiters) done(report);
}

void Reconciler::Continue(const std::shared_ptr<Initiation>& previous) {
  ConnectionPtr conn = previous->conn.lock();
  auto next = std::make_shared<Initiation>();
  bool registered = false;
  {
    std::lock_guard lock(mu_);
    next->session_id = next_session_id_++;
    next->conn = previous->conn;
    next->key = previous->key;
    next->last_activity = Clock::now();
    next->report = previous->report;
    next->earlier_rounds = previous->report.rounds;
    next->earlier_bytes = previous->report.bytes;
    next->fetch_hold = previous->fetch_hold;
    next->waiters.swap(previous->waiters);
    auto it = initiations_.find(previous->key);
    if (conn != nullptr && it != initiations_.end() && it->second == previous) {
      it->second = next;
      registered = true;
    }
  }
  if (!registered) {
    MaybeFinish(next, "the link closed");
    return;
  }
  Begin(conn, next);
}

void Reconciler::OnClosed(const PeerConnection* conn) {
  std::vector<std::shared_ptr<Initiation>> failed;
  {
    std::lock_guard lock(mu_);
    for (auto it = initiations_.begin(); it != initiations_.end(); ++it) {
      if (it->first.first == conn) failed.push_back(it->second);
    }
    for (auto it = responders_.begin(); it != responders_.end();) {
      it = it->first.first == conn ? responders_.erase(it) : std::next(it);
    }
  }
  for (auto& initiation : failed) MaybeFinish(initiation, "the link closed");
}

void Reconciler::Sweep() {
  auto now = Clock::now();
  std::vector<std::shared_ptr<Initiation>> stale;
  std::vector<std::shared_ptr<Initiation>> settled;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, initiation] : initiations_) {
      if (!initiation->negentropy_done && now - initiation->last_activity > kRoundTimeout) {
        stale.push_back(initiation);
      } else if (!initiation->deferred.empty() &&
                 !hold_.Holds(key.second, initiation->deferred_since, now,
                              initiation->fetch_hold)) {
        settled.push_back(initiation);
      }
    }
    for (auto it = responders_.begin(); it != responders_.end();) {
      it = now - it->second.last_activity > limits::kResponderSessionIdle ? responders_.erase(it)
                                                                           : std::next(it);
    }
    for (auto it = pushed_.begin(); it != pushed_.end();) {
      it = now - it->second >= limits::kFetchTimeout ? pushed_.erase(it) : std::next(it);
    }
  }
  for (auto& initiation : stale) MaybeFinish(initiation, "the peer stopped answering");
  for (auto& initiation : settled) FetchDeferred(initiation);
}

std::vector<PeerSyncState> Reconciler::StateOf(const std::string& store_id) const {
  std::lock_guard lock(mu_);
  std::vector<PeerSyncState> out;
  for (const auto& [key, state] : states_) {
    if (key.second == store_id) out.push_back(state);
  }
  return out;
}

}  // namespace lattice::kernel::replication
