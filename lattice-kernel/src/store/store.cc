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

namespace lattice::kernel {
namespace {

// A group is cut at this many requests so one fsync never waits on an unbounded queue.
constexpr size_t kMaxGroupRequests = 512;
constexpr size_t kMaxGroupBytes = 16 << 20;
// A release of held intentions whose commit failed is retried after this.
constexpr auto kHeldRetryInterval = std::chrono::seconds(1);
// Requests committed unsynced before a group is synced whatever it asks: bounds what a power
// loss can take and what is held back from listeners, whatever the timer allows.
constexpr uint64_t kMaxUnsyncedRequests = 4096;

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

// Lives on the submitting caller's stack until `done`; the leader of its group fills in
// the results.
struct Store::Request {
  enum class Kind {
    kLocalKv, kLocalChat, kLocalBuilt, kForeign, kVerify, kReexamine, kReleaseHeld, kExpire,
    kSync
  };
  explicit Request(Kind k) : kind(k) {}

  Kind kind;
  std::vector<KvWrite> kv;
  v1::ChatPayload chat;
  std::string op_type;           // kLocalBuilt
  PayloadBuilder build;          // kLocalBuilt
  std::vector<DecodedIntention> foreign;
  std::string scratch_dir;
  std::string author;            // kReexamine
  AuthorRights rights;           // kReexamine
  uint64_t max_age_ms = 0;       // kExpire
  Durability durability = Durability::kSynced;  // local writes
  size_t bytes = 0;

  // Guarded by queue_mutex_: set by the leader once the results below are final, and the
  // cv wakes the caller for that, or to lead the next group. Unused by asynchronous
  // requests, which the queue owns and the leader completes through `callback`.
  bool done = false;
  std::condition_variable cv;
  WriteCallback callback;

  // Filled while the group is processed; final once `done`.
  absl::StatusOr<WriteReceipt> local_result = absl::UnknownError("not processed");
  std::vector<IngestOutcome> foreign_results;
  VerifyReport verify_report;
  absl::StatusOr<uint64_t> count = uint64_t{0};  // kReexamine, kExpire

  // Whether the group holding this request must be synced before it is acknowledged. Held
  // releases and expiries acknowledge nothing to anyone and are redone if lost.
  bool NeedsSync() const {
    switch (kind) {
      case Kind::kLocalKv:
      case Kind::kLocalChat:
      case Kind::kLocalBuilt:
        return durability == Durability::kSynced;
      case Kind::kReleaseHeld:
      case Kind::kExpire:
        return false;
      default:
        return true;
    }
  }
};

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
  {
    // Requests queued before the close are still processed by their callers.
    std::unique_lock lock(queue_mutex_);
    drained_cv_.wait(lock, [&] { return queue_.empty() && !leading_; });
  }
  witness_cv_.notify_all();
  if (unsynced_requests_ > 0) {
    // No one leads any more: this thread is the last writer. A close leaves every write
    // durable, even if the flush below fails.
    leveldb::WriteBatch barrier;
    if (auto s = Commit(&barrier, /*sync=*/true); !s.ok()) {
      spdlog::warn("store {}: unsynced writes not synced at close: {}", FormatStoreId(options_.id),
                   s.message());
    }
  }
  // Nothing writes any more: leave no log behind, so the next open is as quick as any.
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

// Whether `heads` are exactly `expected` (raw hashes, any order, no repeats counted twice).
bool SameHeads(const v1::KvHeads& heads, const std::vector<std::string>& expected) {
  std::set<std::string_view> want(expected.begin(), expected.end());
  if (want.size() != static_cast<size_t>(heads.heads_size())) return false;
  for (const auto& head : heads.heads()) {
    if (want.count(head.hash()) == 0) return false;
  }
  return true;
}

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

bool Store::Submit(Request& request) {
  std::unique_lock lock(queue_mutex_);
  if (stopping_) return false;
  queue_.push_back(&request);
  request.cv.wait(lock, [&] { return request.done || (!leading_ && queue_.front() == &request); });
  if (!request.done) Lead(lock);
  return true;
}

void Store::SubmitAsync(std::unique_ptr<Request> request) {
  std::unique_lock lock(queue_mutex_);
  if (stopping_) {
    lock.unlock();
    request->callback(absl::UnavailableError("the store is closing"));
    return;
  }
  queue_.push_back(request.release());
  // With no leader, this caller leads: a lone write then runs on its own thread. Otherwise
  // the leader takes it into a later group and this thread is free at once.
  if (!leading_) Lead(lock);
}

void Store::Lead(std::unique_lock<std::mutex>& lock) {
  leading_ = true;
  std::vector<Request*> finished;
  while (true) {
    // The group stays at the front of the queue while it is processed; later arrivals
    // queue behind it, and `leading_` keeps them from leading meanwhile.
    std::vector<Request*> group = NextGroup();
    lock.unlock();
    CommitKind committed = ProcessGroup(group);
    lock.lock();
    switch (committed) {
      case CommitKind::kNone:
        break;
      case CommitKind::kApplied:
        if (!unsynced_since_) {
          unsynced_since_ = std::chrono::steady_clock::now();
          background_cv_.notify_all();  // its timer starts now
        }
        break;
      case CommitKind::kSynced:
        unsynced_since_.reset();
        break;
      case CommitKind::kFailed:
        // Retried after another interval rather than at once, in a loop.
        if (unsynced_since_) unsynced_since_ = std::chrono::steady_clock::now();
        break;
    }
    for (Request* member : group) {
      queue_.pop_front();
      if (member->callback) {
        finished.push_back(member);
      } else {
        member->done = true;
        // Signalled under the lock: once `done` is visible the caller may return and
        // destroy its request, cv included.
        member->cv.notify_one();
      }
    }
    if (!finished.empty()) {
      if (!queue_.empty()) {
        // Another group waits. Finishing a call sends its reply, tens of microseconds each:
        // done here, they would hold that group back; done on the other thread, they
        // overlap with its commit.
        completions_.Post([calls = std::move(finished)] { FinishCalls(calls); });
      } else {
        lock.unlock();
        FinishCalls(finished);
        lock.lock();
      }
      finished.clear();
    }
    // Keep leading while the next request is asynchronous: no thread waits on it, and
    // handing over to one would cost a wake-up per group.
    if (queue_.empty() || !queue_.front()->callback) break;
  }
  leading_ = false;
  if (!queue_.empty()) {
    queue_.front()->cv.notify_one();  // a waiting caller leads the next group
  } else {
    drained_cv_.notify_all();
  }
}

void Store::FinishCalls(const std::vector<Request*>& calls) {
  for (Request* call : calls) {
    std::unique_ptr<Request> owned(call);
    owned->callback(std::move(owned->local_result));
  }
}

std::vector<Store::Request*> Store::NextGroup() const {
  // Verification and re-examination read (and rebuild) the whole store: they run against a
  // quiet store, alone in their group, after everything queued before them.
  auto runs_alone = [](const Request& r) {
    return r.kind == Request::Kind::kVerify || r.kind == Request::Kind::kReexamine;
  };
  std::vector<Request*> group;
  size_t bytes = 0;
  for (Request* request : queue_) {
    if (!group.empty()) {
      // Verification runs against a quiet store: alone, after everything queued before it.
      if (runs_alone(*request) || runs_alone(*group.front())) break;
      if (group.size() >= kMaxGroupRequests || bytes + request->bytes > kMaxGroupBytes) break;
    }
    bytes += request->bytes;
    group.push_back(request);
  }
  return group;
}

void Store::BackgroundLoop() {
  using Clock = std::chrono::steady_clock;
  const auto max_unsynced = std::chrono::milliseconds(options_.max_unsynced_ms);
  // When the earliest held intention is due, by the store's clock; empty while none is.
  std::optional<uint64_t> held_due_ms;
  // A release whose commit failed is not retried in a loop: the next waits this long.
  Clock::time_point next_release_not_before{};
  std::unique_lock lock(queue_mutex_);
  while (!stopping_) {
    if (held_changed_) {
      held_changed_ = false;
      lock.unlock();
      held_due_ms = EarliestHeldDueMs(*db_);
      lock.lock();
      continue;
    }
    std::optional<Clock::time_point> wake;
    if (unsynced_since_) wake = *unsynced_since_ + max_unsynced;
    if (held_due_ms) {
      uint64_t now_ms = options_.clock->WallMs();
      uint64_t wait_ms = std::min(*held_due_ms > now_ms ? *held_due_ms - now_ms : 0,
                                  options_.held_recheck_ms);
      auto release = std::max(Clock::now() + std::chrono::milliseconds(wait_ms),
                              next_release_not_before);
      wake = wake ? std::min(*wake, release) : release;
    }
    background_until_ = wake ? wake->time_since_epoch().count() : kNoDeadline;
    background_waiting_ = true;
    if (wake) {
      background_cv_.wait_until(lock, *wake);
    } else {
      background_cv_.wait(lock);
    }
    background_waiting_ = false;
    ++background_wakeups_;
    if (stopping_) break;
    auto now = Clock::now();
    Request::Kind kind;
    if (unsynced_since_ && now >= *unsynced_since_ + max_unsynced) {
      kind = Request::Kind::kSync;
    } else if (held_due_ms && options_.clock->WallMs() >= *held_due_ms &&
               now >= next_release_not_before) {
      kind = Request::Kind::kReleaseHeld;
    } else {
      continue;  // woken early: a commit started the sync timer, or an ingest held something
    }
    lock.unlock();
    Request request(kind);
    Submit(request);
    lock.lock();
    if (kind == Request::Kind::kReleaseHeld) {
      held_changed_ = true;
      next_release_not_before = Clock::now() + kHeldRetryInterval;
    }
  }
}

Store::BackgroundWait Store::background_wait() const {
  BackgroundWait wait;
  wait.wakeups = background_wakeups_.load();
  wait.waiting = background_waiting_.load();
  auto until = background_until_.load();
  if (until != kNoDeadline) {
    wait.until = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(until));
  }
  return wait;
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

void Store::PublishCommit(bool durable) {
  last_witness_.store(state_.last_witness);
  floating_count_.store(state_.floating_total);
  noop_count_.store(state_.noops);
  if (durable) {
    if (!unsynced_hashes_.empty()) {
      // The groups committed unsynced before this one are durable with it: listeners get
      // them first, in witness order.
      unsynced_hashes_.insert(unsynced_hashes_.end(), state_.applied_in_group.begin(),
                              state_.applied_in_group.end());
      state_.applied_in_group = std::move(unsynced_hashes_);
      unsynced_intentions_.insert(unsynced_intentions_.end(),
                                  std::make_move_iterator(state_.applied_intentions.begin()),
                                  std::make_move_iterator(state_.applied_intentions.end()));
      state_.applied_intentions = std::move(unsynced_intentions_);
      unsynced_hashes_.clear();
      unsynced_intentions_.clear();
    }
    NotifyApplied();
  } else {
    unsynced_hashes_.insert(unsynced_hashes_.end(), state_.applied_in_group.begin(),
                            state_.applied_in_group.end());
    unsynced_intentions_.insert(unsynced_intentions_.end(),
                                std::make_move_iterator(state_.applied_intentions.begin()),
                                std::make_move_iterator(state_.applied_intentions.end()));
    state_.applied_in_group.clear();
    state_.applied_intentions.clear();
  }
  {
    // Taken between the store and the notify so a waiter cannot check, miss, then sleep.
    std::lock_guard lock(witness_mutex_);
  }
  witness_cv_.notify_all();
  std::lock_guard lock(witness_listeners_mutex_);
  for (const auto& [id, wake] : witness_listeners_) wake();
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

namespace {

// Builds the body of this node's next intention in the store: the author chain continues
// from the node's tip and the deps cite the frontier, so the new intention causally follows
// everything applied here (including every head a kv write replaces). `must_cite` (a chat
// reply's parent, the intentions of an fs delta's base versions) come first, so the frontier
// cut at limits::kMaxDeps never drops them: the state machines check those directly.
v1::Intention NextLocalBody(const std::string& store_id, const KeyPair& identity,
                            const WriterState& state, HlcStamp hlc, std::string_view op_type,
                            std::string payload, const std::vector<std::string>& must_cite) {
  v1::Intention body;
  body.set_store_id(store_id);
  body.set_author(identity.public_key);
  body.set_seq(state.own_seq + 1);
  body.set_prev(state.own_tip);
  body.mutable_hlc()->set_wall_ms(hlc.wall_ms);
  body.mutable_hlc()->set_counter(hlc.counter);
  for (const auto& cite : must_cite) {
    if (static_cast<size_t>(body.deps_size()) >= limits::kMaxDeps) break;
    if (cite.empty() || cite == state.own_tip) continue;
    if (std::find(body.deps().begin(), body.deps().end(), cite) != body.deps().end()) continue;
    body.add_deps(cite);
  }
  const size_t cited = static_cast<size_t>(body.deps_size());
  for (const auto& tip : state.frontier) {
    if (static_cast<size_t>(body.deps_size()) >= limits::kMaxDeps) break;
    if (tip == state.own_tip) continue;
    if (std::find(body.deps().begin(), body.deps().begin() + static_cast<int>(cited), tip) !=
        body.deps().begin() + static_cast<int>(cited)) {
      continue;
    }
    body.add_deps(tip);
  }
  body.set_op_type(std::string(op_type));
  body.set_payload(std::move(payload));
  return body;
}

}  // namespace

void Store::NotifyApplied() {
  std::vector<std::string> hashes = std::move(state_.applied_in_group);
  state_.applied_in_group.clear();
  std::vector<DecodedIntention> kept = std::move(state_.applied_intentions);
  state_.applied_intentions.clear();
  if (hashes.empty()) return;
  std::lock_guard lock(listeners_mutex_);
  if (listeners_.empty()) return;
  if (kept.size() == hashes.size()) {
    for (const auto& [id, listener] : listeners_) listener(kept);
    return;
  }
  // The first listener arrived during this group: read back what it applied.
  std::vector<DecodedIntention> applied;
  applied.reserve(hashes.size());
  for (const auto& hash : hashes) {
    auto found = FindIntention(hash);
    if (!found.ok()) continue;
    auto decoded = DecodeTrusted(*found);
    if (decoded.ok()) applied.push_back(*std::move(decoded));
  }
  for (const auto& [id, listener] : listeners_) listener(applied);
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

absl::Status Store::Commit(leveldb::WriteBatch* batch, bool sync) {
  // Chunks first: an intention made durable must not cite a chunk a crash could lose. An
  // unsynced commit syncs neither (a power cut may lose both, or leave a version whose chunks
  // are gone, which a read then reports and wants again from a peer).
  if (sync && chunks_ != nullptr) LATTICE_RETURN_IF_ERROR(chunks_->Sync());
  LATTICE_RETURN_IF_ERROR(db_->Write(batch, sync));
  if (sync) {
    // The log is synced, and LevelDB synced every earlier log as it sealed it
    // (SealedLogEnv): everything applied so far is durable.
    unsynced_requests_ = 0;
    durable_witness_.store(state_.last_witness);
  }
  return absl::OkStatus();
}

Store::CommitKind Store::ProcessGroup(const std::vector<Request*>& group) {
  if (group.front()->kind == Request::Kind::kVerify) {
    // Alone in its group (NextGroup), after every earlier group's commit.
    group.front()->verify_report = VerifyQuiet(group.front()->scratch_dir);
    return CommitKind::kNone;
  }
  if (group.front()->kind == Request::Kind::kReexamine) {
    group.front()->count = ReexamineQuiet(group.front()->author, group.front()->rights);
    return unsynced_requests_ == 0 ? CommitKind::kSynced : CommitKind::kNone;
  }
  state_.applied_in_group.clear();
  state_.applied_intentions.clear();
  // With a chunk store the group's intentions are kept to find the chunks they cite.
  state_.keep_applied_intentions = has_listeners_.load() || chunks_ != nullptr;
  BatchView view(*db_);
  IntentionApplier applier(options_.id, view, state_, *state_machine_, *options_.clock,
                           options_.may_write);

  for (Request* request : group) {
    switch (request->kind) {
      case Request::Kind::kVerify:
      case Request::Kind::kReexamine:
        break;  // never grouped with others
      case Request::Kind::kSync:
        break;  // completed once the group is committed
      case Request::Kind::kReleaseHeld:
        applier.ReleaseHeld();
        break;
      case Request::Kind::kExpire: {
        uint64_t now = options_.clock->WallMs();
        request->count = applier.ExpireFloating(now > request->max_age_ms ? now - request->max_age_ms : 0);
        break;
      }
      case Request::Kind::kForeign:
        for (const auto& intention : request->foreign) {
          request->foreign_results.push_back(applier.Ingest(intention));
        }
        break;
      case Request::Kind::kLocalKv:
      case Request::Kind::kLocalChat:
      case Request::Kind::kLocalBuilt: {
        std::string payload;
        std::vector<std::string> must_cite;
        std::string_view op_type;
        if (request->kind == Request::Kind::kLocalKv) {
          op_type = kOpKv;
          v1::KvPayload kv;
          bool refused = false;
          for (const auto& write : request->kv) {
            v1::KvOp* op = kv.add_ops();
            op->set_key(write.key);
            op->set_value(write.value);
            op->set_tombstone(write.tombstone);
            v1::KvHeads heads = ReadHeads(view, write.key);
            for (const auto& head : heads.heads()) op->add_replaces(head.hash());
            if (write.expected_heads && !SameHeads(heads, *write.expected_heads)) {
              request->local_result = absl::AbortedError(fmt::format(
                  "the key {} changed: its heads are not the ones the write expects",
                  Quote(write.key)));
              refused = true;
              break;
            }
          }
          if (refused) break;
          if (options_.type == StoreType::kRoot) {
            // Refused here rather than signed into a no-op.
            if (auto allowed = CheckRootWrite(options_.identity->public_key, kv); !allowed.ok()) {
              request->local_result = allowed;
              break;
            }
          }
          payload = kv.SerializeAsString();
        } else if (request->kind == Request::Kind::kLocalBuilt) {
          op_type = request->op_type;
          absl::StatusOr<std::string> built = request->build(view);
          if (!built.ok()) {
            request->local_result = built.status();
            break;
          }
          payload = *std::move(built);
          if (op_type == kOpFs) {
            // A write in delta form is resolved against its base on every node only when
            // this intention cites the base's (fs.proto, FsWrite.base).
            v1::FsPayload fs;
            if (fs.ParseFromString(payload)) {
              for (auto& hash : FsBaseIntentions(fs)) must_cite.push_back(std::move(hash));
            }
          }
        } else {
          op_type = kOpChat;
          const auto& chat = request->chat;
          std::string ref;
          if (chat.has_reply()) ref = chat.reply().ref();
          if (chat.has_react()) ref = chat.react().ref();
          if (!ref.empty() && !view.Contains(keys::Intention(ref))) {
            request->local_result = absl::NotFoundError(
                fmt::format("no message {} in this store", ToHex(ref)));
            break;
          }
          if (!ref.empty()) must_cite.push_back(std::move(ref));
          payload = chat.SerializeAsString();
        }
        if (options_.may_write) {
          // A revoked node's write would count nowhere: refuse it rather than keep it here.
          AuthorRights own = options_.may_write(options_.identity->public_key, view);
          if (own.member && own.Voids(state_.own_seq + 1)) {
            request->local_result = absl::PermissionDeniedError(fmt::format(
                "{}: this node's writes to the mesh's stores count nowhere",
                own.void_reason.empty() ? "this node was revoked" : own.void_reason));
            break;
          }
        }
        HlcStamp hlc = options_.clock->Now();
        DecodedIntention intention =
            SignIntention(*options_.identity,
                          NextLocalBody(options_.id, *options_.identity, state_, hlc, op_type,
                                        std::move(payload), must_cite));
        uint64_t witness = 0;
        IngestOutcome outcome = applier.ApplyOwn(intention, &witness);
        if (outcome.kind != IngestOutcome::Kind::kApplied) {
          request->local_result = absl::FailedPreconditionError(outcome.reason);
          break;
        }
        if (!outcome.reason.empty()) {
          // Our own write was validated before it was built; a no-op here is a bug.
          request->local_result = absl::InternalError("local write became a no-op: " + outcome.reason);
        } else {
          request->local_result = WriteReceipt{intention.hash, witness, hlc};
        }
        state_.own_seq = intention.body.seq();
        state_.own_tip = intention.hash;
        break;
      }
    }
  }

  applier.Finish();
  state_.FlushFrontier(view);
  bool wants_recorded = false;
  if (chunks_ != nullptr) {
    for (const auto& intention : state_.applied_intentions) {
      auto cited = ChunksCitedBy(intention.body.op_type(), intention.body.payload());
      if (cited.empty()) continue;
      auto recorded = RecordChunkWants(view, *chunks_, cited);
      if (!recorded.ok()) {
        view.Fail(recorded.status());
      } else if (*recorded > 0) {
        wants_recorded = true;
      }
    }
  }
  absl::Status commit = view.status();
  // The one decision of a group's durability: synced when any of its requests must be
  // acknowledged durable, or when too much is unsynced already.
  bool sync = unsynced_requests_ >= kMaxUnsyncedRequests ||
              std::any_of(group.begin(), group.end(), [](const Request* r) { return r->NeedsSync(); });
  auto complete_barriers = [&] {
    for (Request* request : group) {
      if (request->kind != Request::Kind::kSync) continue;
      request->local_result = WriteReceipt{"", durable_witness_.load(), {}};
    }
  };
  // A group that changed nothing (duplicates only, nothing held was due, a barrier with
  // nothing unsynced) commits nothing: what it read is durable already, since LevelDB shows
  // a synced write only once synced, and an unsynced one is synced by the empty batch below.
  if (commit.ok() && view.empty() && (!sync || unsynced_requests_ == 0)) {
    complete_barriers();
    return CommitKind::kNone;
  }
  if (commit.ok()) commit = Commit(view.batch(), sync);
  if (commit.ok() && wants_recorded) chunk_wants_generation_.fetch_add(1);
  if (commit.ok()) {
    if (!sync) unsynced_requests_ += group.size();
    applier.Committed();
    if (auto s = sync_levels_.Publish(applier.SyncIndexUpdate(), *db_); !s.ok()) {
      spdlog::warn("store {}: sync index read from disk only: {}", FormatStoreId(options_.id),
                   s.message());
    }
    PublishCommit(sync);
    complete_barriers();
    return sync ? CommitKind::kSynced : CommitKind::kApplied;
  }
  spdlog::error("store {}: commit of {} requests failed: {}", FormatStoreId(options_.id),
                group.size(), commit.message());
  if (auto s = LoadWriterState(); !s.ok()) {
    spdlog::error("store {}: reloading writer state failed: {}", FormatStoreId(options_.id),
                  s.message());
  }
  for (Request* request : group) {
    switch (request->kind) {
      case Request::Kind::kVerify:
      case Request::Kind::kReexamine:
      case Request::Kind::kReleaseHeld:
        break;
      case Request::Kind::kSync:
        request->local_result = commit;
        break;
      case Request::Kind::kExpire:
        request->count = commit;
        break;
      case Request::Kind::kForeign:
        for (auto& outcome : request->foreign_results) {
          outcome.kind = IngestOutcome::Kind::kRejected;
          outcome.reason = std::string(commit.message());
        }
        break;
      case Request::Kind::kLocalKv:
      case Request::Kind::kLocalChat:
      case Request::Kind::kLocalBuilt:
        if (request->local_result.ok()) request->local_result = commit;
        break;
    }
  }
  return CommitKind::kFailed;
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
  if (commit.ok()) commit = Commit(view.batch(), /*sync=*/true);
  if (!commit.ok()) {
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
