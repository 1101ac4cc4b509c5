#include "store/store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "lattice/v1/fs.pb.h"
#include "state/chat_state.h"
#include "state/fs_payload.h"
#include "state/fs_state.h"
#include "state/kv_state.h"
#include "state/root_rules.h"
#include "state/root_state.h"
#include "storage/keys.h"
#include "store/chunk_wants.h"
#include "store/intention_applier.h"
#include "store/sync_snapshot.h"
#include "store/write_request.h"

namespace lattice::kernel {
namespace {

std::unique_ptr<StateMachine> MakeStateMachine(StoreType type) {
  if (type == StoreType::kChat) return std::make_unique<ChatStateMachine>();
  if (type == StoreType::kRoot) return std::make_unique<RootStateMachine>();
  if (type == StoreType::kFs) return std::make_unique<FsStateMachine>();
  return std::make_unique<KvStateMachine>();
}

}  // namespace

bool AuthorRights::Voids(uint64_t seq) const {
  for (const auto& range : void_ranges) {
    if (seq > range.after && seq < range.before) return true;
  }
  return false;
}

std::string_view IngestKindName(IngestOutcome::Kind kind) {
  switch (kind) {
    case IngestOutcome::Kind::kApplied: return "applied";
    case IngestOutcome::Kind::kFloating: return "floating";
    case IngestOutcome::Kind::kHeld: return "held";
    case IngestOutcome::Kind::kDuplicate: return "duplicate";
    case IngestOutcome::Kind::kRejected: return "rejected";
  }
  return "unknown";
}

Store::Store(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(Options options) {
  std::unique_ptr<Store> store(new Store(std::move(options)));
  LATTICE_ASSIGN_OR_RETURN(
      store->db_, Database::Open(store->options_.dir, store->options_.write_buffer_bytes,
                                 store->options_.env));
  store->db_->set_min_free_bytes(store->options_.keep_chunks ? store->options_.min_free_bytes / 2
                                                             : store->options_.min_free_bytes);
  if (store->options_.keep_chunks) {
    ChunkStore::Options chunk_options;
    chunk_options.min_free_bytes = std::max(store->options_.min_free_bytes, kChunkReserveBytes);
    LATTICE_ASSIGN_OR_RETURN(store->chunks_, ChunkStore::Open(store->options_.dir + "/chunks",
                                                              std::move(chunk_options)));
  }
  store->state_machine_ = MakeStateMachine(store->options_.type);
  LATTICE_RETURN_IF_ERROR(store->LoadWriterState());
  // What an open finds is durable: LevelDB writes the log it replays out as a synced table.
  store->durable_witness_.store(store->state_.last_witness);
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  store->committer_ = std::thread([s = store.get()] { s->CommitterLoop(); });
  store->background_ = std::thread([s = store.get()] { s->BackgroundLoop(); });
  if (store->chunks_ != nullptr && store->options_.chunk_gc_interval_ms > 0) {
    store->gc_thread_ = std::thread([s = store.get()] { s->ChunkGcLoop(); });
  }
  return store;
}

void Store::TriggerChunkGc() {
  {
    std::lock_guard lock(gc_mutex_);
    gc_triggered_ = true;
  }
  gc_cv_.notify_all();
}

void Store::ChunkGcLoop() {
  std::unique_lock lock(gc_mutex_);
  for (;;) {
    gc_cv_.wait_for(lock, std::chrono::milliseconds(options_.chunk_gc_interval_ms),
                    [&] { return gc_stopping_ || gc_triggered_; });
    if (gc_stopping_) return;
    gc_triggered_ = false;
    lock.unlock();
    ChunkGcOptions gc;
    gc.grace_ms = options_.chunk_gc_grace_ms;
    gc.touch_window_ms = options_.chunk_gc_touch_ms;
    auto stats = CollectChunks(gc);
    if (!stats.ok()) {
      spdlog::warn("store {}: chunk collection failed: {}", FormatStoreId(options_.id),
                   stats.status().message());
    }
    lock.lock();
  }
}

Store::~Store() {
  {
    std::lock_guard lock(gc_mutex_);
    gc_stopping_ = true;
  }
  gc_cv_.notify_all();
  if (gc_thread_.joinable()) gc_thread_.join();
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  // Requests queued before the close are still processed: the writer drains the queue,
  // waits for the last commit, and stops.
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(queue_mutex_);
    committer_stopping_ = true;
  }
  committer_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  witness_cv_.notify_all();
  if (unsynced_requests_ > 0) {
    // The writer and the committer are gone: this thread is the last writer. A close leaves
    // every write durable, even if the flush below fails.
    leveldb::WriteBatch barrier;
    if (auto s = Commit(&barrier, /*sync=*/true, last_witness_.load()); !s.ok()) {
      spdlog::warn("store {}: unsynced writes not synced at close: {}", FormatStoreId(options_.id),
                   s.message());
    }
  }
  // Nothing writes any more: leave no log behind, so the next open is as quick as any. (A
  // store whose open failed has no database.)
  if (db_ == nullptr) return;
  if (auto s = db_->FlushMemtable(); !s.ok()) {
    spdlog::warn("store {}: memtable not flushed at close: {}", FormatStoreId(options_.id), s.message());
  }
}

absl::Status Store::LoadWriterState() {
  LATTICE_RETURN_IF_ERROR(state_.Load(*db_, options_.identity->public_key));
  if (auto s = sync_levels_.Load(*db_); !s.ok()) {
    spdlog::warn("store {}: sync index read from disk only: {}", FormatStoreId(options_.id),
                 s.message());
  }
  last_witness_.store(state_.last_witness);
  floating_count_.store(state_.floating_total);
  noop_count_.store(state_.noops);
  return absl::OkStatus();
}

namespace {

// Checks a local kv write against the limits; `bytes` gets its size.
absl::Status CheckKvWrite(const std::vector<KvWrite>& ops, size_t* bytes_out) {
  if (ops.empty()) return absl::InvalidArgumentError("a write needs at least one operation");
  if (ops.size() > limits::kMaxBatchOps) {
    return LimitExceeded("batch", ops.size(), limits::kMaxBatchOps, "operations");
  }
  size_t bytes = 0;
  std::set<std::string_view> seen;
  for (const auto& op : ops) {
    if (op.key.empty()) return absl::InvalidArgumentError("key must not be empty");
    if (op.key.size() > limits::kMaxKeyBytes) {
      return LimitExceeded("key", op.key.size(), limits::kMaxKeyBytes);
    }
    if (op.value.size() > limits::kMaxValueBytes) {
      return LimitExceeded("value", op.value.size(), limits::kMaxValueBytes);
    }
    if (!seen.insert(op.key).second) {
      return absl::InvalidArgumentError("a batch may write each key once; \"" + op.key +
                                        "\" appears twice");
    }
    if (op.expected_heads && op.expected_heads->size() > limits::kMaxDeps) {
      return LimitExceeded("expected heads", op.expected_heads->size(), limits::kMaxDeps);
    }
    bytes += op.key.size() + op.value.size();
  }
  if (bytes > limits::kMaxBatchBytes) return LimitExceeded("batch", bytes, limits::kMaxBatchBytes);
  *bytes_out = bytes;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WriteReceipt> Store::WriteKv(std::vector<KvWrite> ops, Durability durability) {
  size_t bytes = 0;
  LATTICE_RETURN_IF_ERROR(CheckKvWrite(ops, &bytes));
  Request request(Request::Kind::kLocalKv);
  request.durability = durability;
  request.kv = std::move(ops);
  request.bytes = bytes;
  return SubmitLocal(request);
}

void Store::WriteKvAsync(std::vector<KvWrite> ops, WriteCallback done, Durability durability) {
  size_t bytes = 0;
  if (absl::Status s = CheckKvWrite(ops, &bytes); !s.ok()) {
    done(s);
    return;
  }
  auto request = std::make_unique<Request>(Request::Kind::kLocalKv);
  request->durability = durability;
  request->kv = std::move(ops);
  request->bytes = bytes;
  request->callback = std::move(done);
  SubmitAsync(std::move(request));
}

absl::StatusOr<WriteReceipt> Store::WriteChat(v1::ChatPayload op, Durability durability) {
  LATTICE_RETURN_IF_ERROR(ParseChatPayload(op.SerializeAsString()).status());
  Request request(Request::Kind::kLocalChat);
  request.durability = durability;
  request.bytes = op.ByteSizeLong();
  request.chat = std::move(op);
  return SubmitLocal(request);
}

void Store::WriteChatAsync(v1::ChatPayload op, WriteCallback done, Durability durability) {
  if (absl::Status s = ParseChatPayload(op.SerializeAsString()).status(); !s.ok()) {
    done(s);
    return;
  }
  auto request = std::make_unique<Request>(Request::Kind::kLocalChat);
  request->durability = durability;
  request->bytes = op.ByteSizeLong();
  request->chat = std::move(op);
  request->callback = std::move(done);
  SubmitAsync(std::move(request));
}

void Store::WriteBuiltAsync(std::string_view op_type, PayloadBuilder build, WriteCallback done,
                            Durability durability) {
  auto request = std::make_unique<Request>(Request::Kind::kLocalBuilt);
  request->durability = durability;
  request->op_type = std::string(op_type);
  request->build = std::move(build);
  request->callback = std::move(done);
  SubmitAsync(std::move(request));
}

void Store::SyncAsync(SyncCallback done) {
  auto request = std::make_unique<Request>(Request::Kind::kSync);
  request->callback = [done = std::move(done)](absl::StatusOr<WriteReceipt> result) {
    if (!result.ok()) {
      done(result.status());
    } else {
      done(result->witness);
    }
  };
  SubmitAsync(std::move(request));
}

absl::StatusOr<uint64_t> Store::Sync() {
  Request request(Request::Kind::kSync);
  LATTICE_ASSIGN_OR_RETURN(WriteReceipt receipt, SubmitLocal(request));
  return receipt.witness;
}

absl::StatusOr<WriteReceipt> Store::SubmitLocal(Request& request) {
  if (!Submit(request)) return absl::UnavailableError("the store is closing");
  return std::move(request.local_result);
}

std::vector<IngestOutcome> Store::Ingest(const std::vector<v1::SignedIntention>& intentions) {
  std::vector<IngestOutcome> outcomes(intentions.size());
  Request request(Request::Kind::kForeign);
  std::vector<size_t> positions;
  // Signature checks are the expensive part; they run here, in parallel across callers.
  for (size_t i = 0; i < intentions.size(); ++i) {
    auto decoded = DecodeAndVerify(intentions[i]);
    if (!decoded.ok()) {
      outcomes[i].kind = IngestOutcome::Kind::kRejected;
      outcomes[i].hash = Blake2b256(intentions[i].body());
      outcomes[i].reason = std::string(decoded.status().message());
      outcomes[i].malformed = true;
      continue;
    }
    request.bytes += intentions[i].ByteSizeLong();
    request.foreign.push_back(*std::move(decoded));
    positions.push_back(i);
  }
  if (request.foreign.empty()) return outcomes;
  if (!Submit(request)) {
    for (size_t i : positions) outcomes[i].reason = "the store is closing";
    return outcomes;
  }
  bool held = false;
  for (size_t j = 0; j < positions.size() && j < request.foreign_results.size(); ++j) {
    held |= request.foreign_results[j].kind == IngestOutcome::Kind::kHeld;
    outcomes[positions[j]] = std::move(request.foreign_results[j]);
  }
  if (held) {
    // The background thread may be waiting without a timer, or for a later release.
    std::lock_guard lock(queue_mutex_);
    held_changed_ = true;
    background_cv_.notify_all();
  }
  return outcomes;
}

VerifyReport Store::Verify(const std::string& scratch_dir) {
  Request request(Request::Kind::kVerify);
  request.scratch_dir = scratch_dir;
  if (!Submit(request)) {
    VerifyReport report;
    report.problems.push_back("the store is closing");
    return report;
  }
  return std::move(request.verify_report);
}

absl::StatusOr<uint64_t> Store::Reexamine(const std::string& author, const AuthorRights& rights) {
  Request request(Request::Kind::kReexamine);
  request.author = author;
  request.rights = rights;
  if (!Submit(request)) return absl::UnavailableError("the store is closing");
  return std::move(request.count);
}

absl::StatusOr<uint64_t> Store::ExpireFloating(uint64_t max_age_ms) {
  if (floating_count_.load() == 0) return 0;
  Request request(Request::Kind::kExpire);
  request.max_age_ms = max_age_ms;
  if (!Submit(request)) return absl::UnavailableError("the store is closing");
  return std::move(request.count);
}

uint64_t Store::SubscribeWitness(std::function<void()> wake) {
  std::lock_guard lock(witness_listeners_mutex_);
  uint64_t id = next_witness_listener_id_++;
  witness_listeners_.emplace(id, std::move(wake));
  return id;
}

void Store::UnsubscribeWitness(uint64_t id) {
  std::lock_guard lock(witness_listeners_mutex_);
  witness_listeners_.erase(id);
}

uint64_t Store::Subscribe(AppliedListener listener) {
  std::lock_guard lock(listeners_mutex_);
  uint64_t id = next_listener_id_++;
  listeners_.emplace(id, std::move(listener));
  has_listeners_.store(true);
  return id;
}

void Store::Unsubscribe(uint64_t id) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(id);
  has_listeners_.store(!listeners_.empty());
}

absl::StatusOr<v1::SignedIntention> Store::FindIntention(std::string_view hash) const {
  LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
  if (stored) {
    v1::StoredIntention record;
    if (!record.ParseFromString(*stored)) return absl::DataLossError("stored intention does not parse");
    return record.intention();
  }
  LATTICE_ASSIGN_OR_RETURN(auto pending, db_->Get(keys::Pending(hash)));
  if (pending) {
    v1::SignedIntention signed_intention;
    if (!signed_intention.ParseFromString(*pending)) return absl::DataLossError("floating intention does not parse");
    return signed_intention;
  }
  return absl::NotFoundError(fmt::format("no intention {}", ToHex(hash)));
}

absl::StatusOr<uint64_t> Store::DurableForPeers(uint64_t witness) {
  uint64_t durable = durable_witness_.load();
  if (durable >= std::max(witness, last_witness_.load())) return durable;
  return Sync();
}

absl::Status Store::FindInWitnessOrder(const std::vector<std::string>& hashes,
                                       std::vector<v1::SignedIntention>* found,
                                       std::vector<std::string>* unknown) {
  struct Witnessed {
    uint64_t witness;
    const std::string* hash;
    v1::SignedIntention intention;
  };
  std::vector<Witnessed> witnessed;
  std::vector<v1::SignedIntention> floating;
  for (const auto& hash : hashes) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    if (stored) {
      v1::StoredIntention record;
      if (!record.ParseFromString(*stored)) return absl::DataLossError("stored intention does not parse");
      witnessed.push_back({record.witness(), &hash, std::move(*record.mutable_intention())});
      continue;
    }
    LATTICE_ASSIGN_OR_RETURN(auto pending, db_->Get(keys::Pending(hash)));
    v1::SignedIntention signed_intention;
    if (pending && signed_intention.ParseFromString(*pending)) {
      floating.push_back(std::move(signed_intention));
    } else {
      unknown->push_back(hash);
    }
  }
  std::sort(witnessed.begin(), witnessed.end(),
            [](const auto& a, const auto& b) { return a.witness < b.witness; });
  // Everything read above was applied before this barrier, so it covers all of it.
  uint64_t durable = durable_witness_.load();
  if (!witnessed.empty() && witnessed.back().witness > durable) {
    auto synced = DurableForPeers(witnessed.back().witness);
    if (synced.ok()) {
      durable = *synced;
    } else {
      spdlog::warn("store {}: intentions not yet durable withheld from a peer: {}",
                   FormatStoreId(options_.id), synced.status().message());
      durable = durable_witness_.load();
    }
  }
  for (auto& entry : witnessed) {
    if (entry.witness > durable) {
      unknown->push_back(*entry.hash);
    } else {
      found->push_back(std::move(entry.intention));
    }
  }
  for (auto& intention : floating) found->push_back(std::move(intention));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Store::TipSeqOf(std::string_view author) const {
  LATTICE_ASSIGN_OR_RETURN(auto tip, db_->Get(keys::AuthorTip(author)));
  if (!tip) return 0;
  if (tip->size() < 8) return absl::DataLossError("an author's tip record is truncated");
  return keys::ReadBigEndian64(*tip);
}

std::vector<std::string> Store::MissingDependencies(size_t max) const {
  std::vector<std::string> missing;
  std::string prefix = keys::Table(keys::kMissing);
  (void)db_->Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    std::string hash(k.substr(1, kHashBytes));
    if (!missing.empty() && missing.back() == hash) return true;
    // A dependency that floats itself is here; what it waits for is listed on its own.
    auto floating = db_->Get(keys::Pending(hash));
    if (floating.ok() && *floating) return true;
    missing.push_back(std::move(hash));
    return missing.size() < max;
  });
  return missing;
}

std::vector<Store::FloatingInfo> Store::Floating(size_t max) const {
  std::vector<FloatingInfo> out;
  std::string prefix = keys::Table(keys::kPending);
  (void)db_->Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    v1::SignedIntention signed_intention;
    if (!signed_intention.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
    auto decoded = DecodeTrusted(signed_intention);
    if (!decoded.ok()) return true;
    FloatingInfo info;
    info.hash = decoded->hash;
    info.author = decoded->body.author();
    info.seq = decoded->body.seq();
    info.wall_ms = decoded->body.hlc().wall_ms();
    auto is_missing = [&](const std::string& dep) {
      auto applied = db_->Get(keys::Intention(dep));
      if (!applied.ok() || *applied) return false;
      auto floating = db_->Get(keys::Pending(dep));
      return floating.ok() && !*floating;
    };
    if (!decoded->body.prev().empty() && is_missing(decoded->body.prev())) {
      info.missing.push_back(decoded->body.prev());
    }
    for (const auto& dep : decoded->body.deps()) {
      if (is_missing(dep)) info.missing.push_back(dep);
    }
    auto held = db_->Get(keys::Held(info.wall_ms, info.hash));
    info.held = held.ok() && held->has_value();
    out.push_back(std::move(info));
    return out.size() < max;
  });
  return out;
}

absl::StatusOr<std::vector<std::string>> Store::WantedChunks(size_t max,
                                                             std::string_view after) const {
  if (chunks_ == nullptr) return std::vector<std::string>();
  return ListChunkWants(*db_, max, after);
}

absl::Status Store::WantChunks(const std::vector<std::string>& hashes) {
  if (chunks_ == nullptr) {
    return absl::FailedPreconditionError(
        fmt::format("store {} keeps no chunks", FormatStoreId(options_.id)));
  }
  LATTICE_RETURN_IF_ERROR(AddChunkWants(*db_, hashes));
  chunk_wants_generation_.fetch_add(1);
  return absl::OkStatus();
}

absl::Status Store::ChunksStored(const std::vector<std::string>& hashes) {
  if (chunks_ == nullptr) return absl::OkStatus();
  return DropChunkWants(*db_, hashes);
}

uint64_t Store::WaitForWitness(uint64_t after,
                               std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(witness_mutex_);
  witness_cv_.wait_until(lock, deadline, [&] { return last_witness_.load() > after; });
  return last_witness_.load();
}

absl::Status Store::ReadLog(uint64_t after, size_t max, const LogVisitor& visit) const {
  std::vector<std::pair<uint64_t, std::string>> hashes;
  LATTICE_RETURN_IF_ERROR(db_->Scan(keys::Witness(after + 1), keys::PrefixEnd(keys::Table(keys::kWitness)),
                                    [&](std::string_view k, std::string_view v) {
                                      hashes.emplace_back(keys::ReadBigEndian64(k.substr(1)),
                                                          std::string(v));
                                      return hashes.size() < max;
                                    }));
  for (const auto& [witness, hash] : hashes) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    v1::StoredIntention record;
    if (!stored || !record.ParseFromString(*stored)) {
      return absl::DataLossError(fmt::format("witness {} names a missing intention", witness));
    }
    LATTICE_ASSIGN_OR_RETURN(DecodedIntention decoded, DecodeTrusted(record.intention()));
    if (!visit(witness, decoded, !record.noop_reason().empty())) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ForkProof>> Store::ForkProofs() const {
  std::vector<v1::ForkProof> proofs;
  std::string prefix = keys::Table(keys::kFork);
  LATTICE_RETURN_IF_ERROR(db_->Scan(prefix, keys::PrefixEnd(prefix),
                                    [&](std::string_view, std::string_view v) {
                                      v1::ForkProof proof;
                                      if (proof.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                        proofs.push_back(std::move(proof));
                                      }
                                      return true;
                                    }));
  return proofs;
}

namespace {
absl::StatusOr<std::string> HashStateTable(const Database& db) {
  Blake2bHasher hasher;
  std::string prefix = keys::Table(keys::kState);
  LATTICE_RETURN_IF_ERROR(db.Scan(prefix, keys::PrefixEnd(prefix),
                                  [&](std::string_view k, std::string_view v) {
                                    hasher.UpdateField(k);
                                    hasher.UpdateField(v);
                                    return true;
                                  }));
  return ToHex(hasher.Finish());
}
}  // namespace

absl::StatusOr<std::string> Store::StateHash() const { return HashStateTable(*db_); }

absl::StatusOr<uint64_t> Store::ReexamineQuiet(const std::string& author,
                                                  const AuthorRights& rights) {
  // Every applied intention of the author: the first at each seq, and the other branch of
  // each fork.
  std::vector<std::pair<uint64_t, std::string>> written;
  std::string seq_prefix = keys::AuthorSeq(author, 0).substr(0, 1 + kNodeIdBytes);
  LATTICE_RETURN_IF_ERROR(db_->Scan(seq_prefix, keys::PrefixEnd(seq_prefix),
                                    [&](std::string_view k, std::string_view v) {
                                      written.emplace_back(keys::ReadBigEndian64(k.substr(seq_prefix.size())),
                                                           std::string(v));
                                      return true;
                                    }));
  LATTICE_ASSIGN_OR_RETURN(auto proofs, ForkProofs());
  for (const auto& proof : proofs) {
    auto second = DecodeTrusted(proof.second());
    if (second.ok() && second->body.author() == author) {
      written.emplace_back(second->body.seq(), second->hash);
    }
  }
  std::set<std::string> flips;
  for (const auto& [seq, hash] : written) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    v1::StoredIntention record;
    if (!stored || !record.ParseFromString(*stored)) continue;  // floating: judged on arrival
    bool should_be_void = !rights.member || rights.Voids(seq);
    if (record.revoked() != should_be_void) flips.insert(hash);
  }
  if (flips.empty()) return 0;

  // Rebuild the state from the witness log with the new verdicts, in one batch.
  spdlog::info("store {}: {} intentions of {} change standing; rebuilding the state",
               FormatStoreId(options_.id), flips.size(), ShortHex(author));
  BatchView view(*db_);
  std::vector<std::string> state_keys;
  view.ScanPrefix(keys::Table(keys::kState), [&](std::string_view k, std::string_view) {
    state_keys.emplace_back(k);
    return true;
  });
  for (const auto& key : state_keys) view.Delete(key);
  auto machine = MakeStateMachine(options_.type);
  uint64_t noops = 0;
  std::string witness_prefix = keys::Table(keys::kWitness);
  absl::Status replay_error;
  LATTICE_RETURN_IF_ERROR(db_->Scan(witness_prefix, keys::PrefixEnd(witness_prefix),
                                    [&](std::string_view, std::string_view hash) {
    auto stored = db_->Get(keys::Intention(hash));
    v1::StoredIntention record;
    if (!stored.ok() || !*stored || !record.ParseFromString(**stored)) {
      replay_error = absl::DataLossError(fmt::format("witness log names a missing intention {}", ToHex(hash)));
      return false;
    }
    auto decoded = DecodeTrusted(record.intention());
    if (!decoded.ok()) {
      replay_error = decoded.status();
      return false;
    }
    v1::StoredIntention updated = record;
    if (flips.count(std::string(hash))) updated.set_revoked(!record.revoked());
    if (updated.revoked()) {
      updated.set_noop_reason(VoidIntentionReason(decoded->body.author()));
    } else {
      absl::Status applied = machine->Apply(view, *decoded, Freshness::kUnknown);
      updated.set_noop_reason(applied.ok() ? "" : std::string(applied.message()));
    }
    if (!updated.noop_reason().empty()) ++noops;
    if (updated.revoked() != record.revoked() || updated.noop_reason() != record.noop_reason()) {
      view.Put(keys::Intention(hash), updated.SerializeAsString());
    }
    return true;
  }));
  LATTICE_RETURN_IF_ERROR(replay_error);
  state_.noops = noops;
  state_.noops_dirty = true;
  state_.FlushFrontier(view);
  absl::Status commit = view.status();
  if (commit.ok()) commit = Commit(view.batch(), /*sync=*/true, state_.last_witness);
  if (!commit.ok()) {
    (void)db_->ReopenAfterFailure();
    (void)LoadWriterState();
    return commit;
  }
  noop_count_.store(state_.noops);
  return flips.size();
}

VerifyReport Store::VerifyQuiet(const std::string& scratch_dir) {
  VerifyReport report;
  std::error_code ignored;
  std::filesystem::remove_all(scratch_dir, ignored);
  auto scratch = Database::Open(scratch_dir);
  if (!scratch.ok()) {
    report.problems.push_back("cannot open scratch database: " + std::string(scratch.status().message()));
    return report;
  }
  auto replay_machine = MakeStateMachine(options_.type);
  auto view = std::make_unique<BatchView>(**scratch);
  uint64_t expected_witness = 0;
  auto flush = [&] {
    if (auto s = (*scratch)->Write(view->batch(), false); !s.ok()) {
      report.problems.push_back("scratch write failed: " + std::string(s.message()));
    }
    view = std::make_unique<BatchView>(**scratch);
  };
  sync::Aggregate witnessed;  // what the sync index must hold
  std::string witness_prefix = keys::Table(keys::kWitness);
  absl::Status scan = db_->Scan(witness_prefix, keys::PrefixEnd(witness_prefix),
                                [&](std::string_view k, std::string_view hash) {
    uint64_t witness = keys::ReadBigEndian64(k.substr(1));
    if (witness != ++expected_witness) {
      report.problems.push_back(fmt::format("witness log jumps from {} to {}", expected_witness - 1, witness));
      expected_witness = witness;
    }
    auto stored = db_->Get(keys::Intention(hash));
    v1::StoredIntention record;
    if (!stored.ok() || !*stored || !record.ParseFromString(**stored)) {
      report.problems.push_back(fmt::format("witness {} names a missing intention {}", witness, ToHex(hash)));
      return report.problems.size() < 100;
    }
    auto decoded = DecodeAndVerify(record.intention());
    if (!decoded.ok()) {
      report.problems.push_back(fmt::format("intention {}: {}", ToHex(hash), decoded.status().message()));
      return report.problems.size() < 100;
    }
    if (decoded->hash != hash) {
      report.problems.push_back(fmt::format("intention stored under {} hashes to {}", ToHex(hash), ToHex(decoded->hash)));
    }
    for (const auto& dep : decoded->body.deps()) {
      if (!view->Contains(keys::Intention(dep))) {
        report.problems.push_back(fmt::format("intention {} was witnessed before its dependency {}", ToHex(hash), ToHex(dep)));
      }
    }
    absl::Status applied = record.revoked() ? absl::PermissionDeniedError("author revoked")
                                            : replay_machine->Apply(*view, *decoded,
                                                                    Freshness::kUnknown);
    bool noop = !applied.ok();
    if (noop != !record.noop_reason().empty()) {
      report.problems.push_back(fmt::format("intention {}: replay {} but it was recorded {}", ToHex(hash),
                                            noop ? "is a no-op" : "applies", noop ? "as applied" : "as a no-op"));
    }
    if (noop) ++report.noops;
    witnessed.Add(sync::Item{decoded->body.hlc().wall_ms(), sync::IdFromBytes(decoded->hash)});
    view->Put(keys::Intention(hash), "");
    ++report.intentions;
    if (view->ApproximateSize() > (4 << 20)) flush();
    return true;
  });
  if (!scan.ok()) report.problems.push_back("reading the witness log failed: " + std::string(scan.message()));
  flush();
  auto live = HashStateTable(*db_);
  auto replayed = HashStateTable(**scratch);
  if (live.ok()) report.state_hash = *live;
  if (replayed.ok()) report.replayed_hash = *replayed;
  if (!live.ok() || !replayed.ok() || *live != *replayed) {
    report.problems.push_back("the live state differs from the state recomputed from the intentions");
  }
  auto index = SyncSnapshot::Open(*db_);
  absl::StatusOr<sync::Aggregate> indexed = index.ok() ? (*index)->Total() : index.status();
  if (!indexed.ok()) {
    report.problems.push_back("reading the sync index failed: " + std::string(indexed.status().message()));
  } else if (!(*indexed == witnessed)) {
    report.problems.push_back(fmt::format(
        "the sync index sums {} intentions, not the {} witnessed ones it should", indexed->count,
        witnessed.count));
  }
  scratch->reset();
  std::filesystem::remove_all(scratch_dir, ignored);
  report.ok = report.problems.empty();
  return report;
}

}  // namespace lattice::kernel
