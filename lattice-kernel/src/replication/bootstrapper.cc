#include "replication/bootstrapper.h"

#include "lattice/common/status.h"

#include <spdlog/spdlog.h>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"
#include "storage/keys.h"

namespace lattice::kernel::replication {
namespace {

constexpr std::string_view kRecordPrefix = "bootstrap/";
// An interrupted bootstrap waits this long for its source to come back before it starts
// over from another peer (whose witness numbers differ, so it cannot resume there).
constexpr auto kSourceGrace = std::chrono::seconds(5);
// A peer that stalled a bootstrap is asked again only after this many stall timeouts while
// another peer shares the store, so that one is tried first; alone, it is asked again at once.
constexpr int kStalledPeerPauses = 6;

std::string RecordKey(std::string_view store_id) {
  return std::string(kRecordPrefix) + std::string(store_id);
}

}  // namespace

Bootstrapper::Bootstrapper(ReplicationContext& ctx, Gossip& gossip,
                           std::chrono::milliseconds stall_timeout, Completed completed)
    : ctx_(ctx), gossip_(gossip), stall_timeout_(stall_timeout), completed_(std::move(completed)) {}

std::optional<v1::BootstrapRecord> Bootstrapper::Load(const std::string& store_id) {
  auto stored = ctx_.node.node_db().Get(RecordKey(store_id));
  if (!stored.ok() || !*stored) return std::nullopt;
  v1::BootstrapRecord record;
  if (!record.ParseFromString(**stored)) return std::nullopt;
  return record;
}

void Bootstrapper::Save(const v1::BootstrapRecord& record) {
  leveldb::WriteBatch batch;
  batch.Put(RecordKey(record.store_id()), record.SerializeAsString());
  // Not synced: losing the record to a power cut costs only time. The node then asks for
  // chunks again, or, holding part of the store, leaves the rest to reconciliation
  // (BootstrapPowerCutTest).
  if (auto s = ctx_.node.node_db().Write(&batch, /*sync=*/false); !s.ok()) {
    spdlog::warn("store {}: saving bootstrap progress failed: {}", FormatStoreId(record.store_id()),
                 s.message());
  }
}

bool Bootstrapper::Needed(const std::string& store_id) {
  if (auto record = Load(store_id)) return !record->done();
  Store* store = ctx_.node.StoreById(store_id);
  return store != nullptr && store->last_witness() == 0;
}

void Bootstrapper::Request(PeerConnection& conn, const std::string& store_id, uint64_t after) {
  v1::PeerMessage message;
  v1::BootstrapRequest* request = message.mutable_bootstrap();
  request->set_store_id(store_id);
  request->set_after(after);
  request->set_max(limits::kBootstrapChunkIntentions);
  (void)conn.Send(message, std::chrono::milliseconds(5000));
}

bool Bootstrapper::StalledLately(const std::string& store_id, const std::string& peer,
                                 std::chrono::steady_clock::time_point now) {
  auto it = stalled_.find(store_id);
  if (it == stalled_.end()) return false;
  if (now - it->second.at >= kStalledPeerPauses * stall_timeout_) {
    stalled_.erase(it);
    return false;
  }
  return it->second.peer_id == peer;
}

void Bootstrapper::Start(const ConnectionPtr& conn, const std::string& store_id) {
  v1::BootstrapRecord record = Load(store_id).value_or(v1::BootstrapRecord());
  auto now = std::chrono::steady_clock::now();
  bool resumable = !record.source().empty() && record.next() > 0 && !record.done();
  bool another_peer = false;
  for (const auto& peer : ctx_.PeersOf(store_id)) another_peer |= peer->peer_id() != conn->peer_id();
  {
    std::lock_guard lock(mu_);
    if (running_.count(store_id)) return;
    if (another_peer && StalledLately(store_id, conn->peer_id(), now)) return;
    // A source that stalled is not waited for: the bootstrap starts over elsewhere.
    if (resumable && record.source() != conn->peer_id() &&
        !StalledLately(store_id, record.source(), now)) {
      // Resume from the source when it comes back; start over elsewhere only after a while.
      auto [since, fresh] = source_awaited_since_.try_emplace(store_id, now);
      if (ctx_.connections.Get(record.source()) || now - since->second < kSourceGrace) return;
    }
    source_awaited_since_.erase(store_id);
    running_[store_id] = Running{conn.get(), conn->peer_id(), now};
  }
  if (record.source() != conn->peer_id()) {
    if (!record.source().empty()) {
      spdlog::info("store {}: bootstrap continues from {} instead of {}, from the start",
                   FormatStoreId(store_id), ShortHex(conn->peer_id()), ShortHex(record.source()));
    }
    record.set_store_id(store_id);
    record.set_source(conn->peer_id());
    record.set_next(0);
    record.set_done(false);
    Save(record);
  }
  spdlog::info("store {}: bootstrapping from {} after witness {}", FormatStoreId(store_id),
               ShortHex(conn->peer_id()), record.next());
  Request(*conn, store_id, record.next());
}

void Bootstrapper::OnRequest(const ConnectionPtr& conn, const v1::BootstrapRequest& request) {
  v1::PeerMessage message;
  v1::BootstrapChunk* chunk = message.mutable_chunk();
  chunk->set_store_id(request.store_id());
  Store* store = ctx_.StoreFor(conn->peer_id(), request.store_id());
  if (store == nullptr) {
    // Nothing to give: an empty, finished chunk (the asker may learn of the store later).
    chunk->set_next(request.after());
    chunk->set_done(true);
    (void)conn->Send(message, std::chrono::milliseconds(5000));
    return;
  }
  uint64_t max = std::min(std::max<uint32_t>(request.max(), 1), limits::kBootstrapChunkIntentions);
  // Only what is durable leaves this node (Store::DurableForPeers).
  auto durable = store->DurableForPeers();
  if (!durable.ok()) {
    spdlog::warn("store {}: a bootstrap gets only what was durable: {}",
                 FormatStoreId(request.store_id()), durable.status().message());
  }
  uint64_t bound = durable.ok() ? *durable : store->durable_witness();
  max = std::min<uint64_t>(max, bound > request.after() ? bound - request.after() : 0);
  uint64_t next = request.after();
  size_t bytes = 0;
  absl::Status read;
  if (max > 0) {
    read = store->ReadLog(request.after(), max, [&](uint64_t witness, const DecodedIntention& d, bool) {
      size_t size = PackedSize(d.signed_intention);
      if (chunk->intentions_size() > 0 && bytes + size > limits::kTargetMessageBytes) return false;
      bytes += size;
      *chunk->add_intentions() = d.signed_intention;
      next = witness;
      return true;
    });
  }
  if (!read.ok()) {
    spdlog::error("store {}: reading the log for a bootstrap failed: {}",
                  FormatStoreId(request.store_id()), read.message());
  }
  chunk->set_next(next);
  chunk->set_total(store->last_witness());
  chunk->set_done(next >= store->last_witness());
  (void)conn->Send(message, std::chrono::milliseconds(5000));
}

void Bootstrapper::OnChunk(const ConnectionPtr& conn, const v1::BootstrapChunk& chunk) {
  const std::string& store_id = chunk.store_id();
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(store_id);
    if (it == running_.end() || it->second.conn != conn.get()) return;  // not asked of this peer
    it->second.last_activity = std::chrono::steady_clock::now();
  }
  Store* store = ctx_.StoreFor(conn->peer_id(), store_id);
  auto record = Load(store_id);
  if (store == nullptr || !record || record->source() != conn->peer_id()) {
    std::lock_guard lock(mu_);
    running_.erase(store_id);
    return;
  }
  if (chunk.next() < record->next()) {
    conn->ReportInvalid("a bootstrap chunk went backwards");
    std::lock_guard lock(mu_);
    running_.erase(store_id);
    return;
  }
  // Ask for the next chunk before ingesting this one, so the peer reads its log while we
  // verify and apply.
  if (!chunk.done()) Request(*conn, store_id, chunk.next());
  std::vector<v1::SignedIntention> intentions(chunk.intentions().begin(), chunk.intentions().end());
  auto outcomes = gossip_.IngestFrom(conn, *store, intentions, /*forward=*/false);
  uint64_t arrived = 0;
  for (const auto& outcome : outcomes) {
    switch (outcome.kind) {
      case IngestOutcome::Kind::kApplied:
        ++arrived;
        break;
      case IngestOutcome::Kind::kFloating:
        // In witness order every dependency comes first: this one was sent out of order.
        conn->ReportInvalid("a bootstrap chunk held an intention before its dependencies");
        break;
      case IngestOutcome::Kind::kRejected:
        if (!outcome.malformed) {
          // Refused here, not the peer's fault (a full disk, a closing store): stop without
          // recording progress past it, and resume later.
          spdlog::warn("store {}: bootstrap paused: {}", FormatStoreId(store_id), outcome.reason);
          std::lock_guard lock(mu_);
          running_.erase(store_id);
          return;
        }
        break;
      default:
        break;
    }
  }
  record->set_next(chunk.next());
  record->set_total(chunk.total());
  record->set_received(record->received() + arrived);
  record->set_done(chunk.done());
  Save(*record);
  if (!chunk.done()) return;
  {
    std::lock_guard lock(mu_);
    running_.erase(store_id);
    stalled_.erase(store_id);
  }
  spdlog::info("store {}: bootstrap from {} complete, {} intentions", FormatStoreId(store_id),
               ShortHex(conn->peer_id()), record->received());
  if (completed_) completed_(conn, store_id);
}

void Bootstrapper::OnClosed(const PeerConnection* conn) {
  std::lock_guard lock(mu_);
  for (auto it = running_.begin(); it != running_.end();) {
    it = it->second.conn == conn ? running_.erase(it) : std::next(it);
  }
}

void Bootstrapper::Sweep() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  for (auto it = running_.begin(); it != running_.end();) {
    if (now - it->second.last_activity < stall_timeout_) {
      ++it;
      continue;
    }
    spdlog::warn("store {}: bootstrap from {} stalled, starting it again", FormatStoreId(it->first),
                 ShortHex(it->second.peer_id));
    stalled_[it->first] = Stalled{it->second.peer_id, now};
    it = running_.erase(it);
  }
}

std::vector<v1::BootstrapRecord> Bootstrapper::Progress() {
  std::vector<v1::BootstrapRecord> out;
  (void)ctx_.node.node_db().Scan(kRecordPrefix, keys::PrefixEnd(kRecordPrefix),
                                 [&](std::string_view, std::string_view v) {
                                   v1::BootstrapRecord record;
                                   if (record.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                     out.push_back(std::move(record));
                                   }
                                   return true;
                                 });
  return out;
}

}  // namespace lattice::kernel::replication
