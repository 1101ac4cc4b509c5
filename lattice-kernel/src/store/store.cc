// A store's lifecycle and the calls that hand it work: opening (the database, the chunk
// store, the writer state, the store's threads), closing (draining the queue, leaving every
// write durable), and the public writes, ingests, barriers, verifications and
// re-examinations, each checked against the limits and queued for the writer
// (store/group_commit.cc runs them). Subscriptions to commits are kept here too.
#include "store/store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "state/chat_state.h"
#include "state/fs_state.h"
#include "state/kv_state.h"
#include "state/root_state.h"
#include "store/chunk_wants.h"
#include "store/write_request.h"
#include "sync/legacy_item_table.h"

namespace lattice::kernel {

std::unique_ptr<StateMachine> Store::MakeStateMachine(StoreType type) {
  if (type == StoreType::kChat) return std::make_unique<ChatStateMachine>();
  if (type == StoreType::kRoot) return std::make_unique<RootStateMachine>();
  if (type == StoreType::kFs) return std::make_unique<FsStateMachine>();
  return std::make_unique<KvStateMachine>();
}

bool InAnyRange(const std::vector<SeqRange>& ranges, uint64_t seq) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [seq](const SeqRange& range) { return range.Contains(seq); });
}

bool AuthorRights::Voids(uint64_t seq) const { return InAnyRange(void_ranges, seq); }

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

Store::Store(Options options)
    : options_(std::move(options)),
      sync_compactions_(options_.sync_index_adds_before_compaction) {}

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
  if (!store->options_.published_witness_path.empty()) {
    auto published = PublishedWitnessWriter::Open(store->options_.published_witness_path);
    if (published.ok()) {
      store->published_witness_ = *std::move(published);
    } else {
      spdlog::warn("store {}: its witness is not published, mounts ask for every open: {}",
                   FormatStoreId(store->options_.id), published.status().message());
    }
  }
  // A sync index of the first format gets its leaf records before anything reads it.
  LATTICE_ASSIGN_OR_RETURN(
      uint64_t moved, sync::MoveItemsIntoLeaves(*store->db_, [&](leveldb::WriteBatch* batch) {
        return store->db_->Write(batch, /*sync=*/true);
      }));
  if (moved > 0) {
    spdlog::info("store {}: {} items of its sync index moved into leaf records",
                 FormatStoreId(store->options_.id), moved);
  }
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
    spdlog::warn("store {}: memtable not flushed at close: {}", FormatStoreId(options_.id),
                 s.message());
  }
}

absl::Status Store::LoadWriterState() {
  LATTICE_RETURN_IF_ERROR(state_.Load(*db_, options_.identity->public_key));
  if (auto s = sync_levels_.Load(*db_); !s.ok()) {
    spdlog::warn("store {}: sync index read from disk only: {}", FormatStoreId(options_.id),
                 s.message());
  }
  last_witness_.store(state_.last_witness);
  if (published_witness_) published_witness_->Publish(state_.last_witness);
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

}  // namespace lattice::kernel
