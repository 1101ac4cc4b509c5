// One store: its LevelDB, its state machine and its write queue. Local writes and foreign
// intentions queue up; the store's own writer thread takes what is queued as one group,
// applies it into one WriteBatch and has it made durable with one fsync (group commit)
// before any of it is acknowledged. No caller's thread ever waits for a disk: an RPC
// handler only queues its write, and the reply is sent once the group is durable.
// The writer pipelines: while one group is written and fsynced by the store's committer
// thread, the writer already builds the next one (signs, reads heads, fills its batch)
// over the first one's writes; a group is acknowledged only after the fsync of its own
// commit, and commits go to the disk in queue order. A lone write is committed by the
// writer itself, without waking the committer.
// A local write may instead be acknowledged once applied (Durability::kApplied): a group of
// only such writes is committed without the fsync, and a later synced group, a sync barrier
// (Store::Sync) or the timer of Options::max_unsynced_ms makes it durable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "dag/hlc.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/published_witness.h"
#include "dag/intention.h"
#include "lattice/v1/store_protocol.pb.h"
#include "state/state_machine.h"
#include "storage/batch_view.h"
#include "storage/chunk_store.h"
#include "storage/database.h"
#include "store/chunk_gc.h"
#include "store/serial_executor.h"
#include "store/store_type.h"
#include "store/writer_state.h"
#include "sync/index_compaction.h"
#include "sync/resident_trie.h"

namespace lattice::kernel {

// How a local write is acknowledged (DESIGN.md §4). kSynced: once durable on this node's
// disk. kApplied: once applied, so every reader sees it; durable with the next synced
// commit, the next Sync, or within Store::Options::max_unsynced_ms, whichever comes first.
// Either way the writes of a store become durable in the order they were applied: a write
// is never durable while one applied before it is not. kAppliedThenSynced: acknowledged as
// kApplied, then synced at once behind the acknowledgement, by the commit stage before it
// commits the next group: the write goes to the peers (which get only durable intentions) as
// soon as a synced write would have, and only the caller's wait for the fsync is saved (a
// chat post acknowledged applied: a conversation's messages are not held back).
enum class Durability { kSynced, kApplied, kAppliedThenSynced };

struct WriteReceipt {
  std::string hash;
  uint64_t witness = 0;
  HlcStamp hlc;
};

struct KvWrite {
  KvWrite() = default;
  KvWrite(std::string key_, std::string value_, bool tombstone_ = false)
      : key(std::move(key_)), value(std::move(value_)), tombstone(tombstone_) {}

  std::string key;
  std::string value;
  bool tombstone = false;
  // A compare-and-set: when set, the write happens only if the key's heads (their hashes,
  // raw bytes, any order) are exactly these when the write's group is built; otherwise the
  // whole write fails with ABORTED and nothing is signed.
  std::optional<std::vector<std::string>> expected_heads;
};

struct IngestOutcome {
  enum class Kind { kApplied, kFloating, kHeld, kDuplicate, kRejected };
  Kind kind = Kind::kRejected;
  std::string hash;
  std::string reason;
  std::vector<std::string> missing;  // for kFloating: the dependencies to fetch
  // For kRejected: the intention itself is unusable (undecodable, forged signature, broken
  // chain, another store's), as opposed to refused by policy (its author is not a member
  // yet, too many floating). A peer that sends malformed intentions is misbehaving.
  bool malformed = false;
};
std::string_view IngestKindName(IngestOutcome::Kind kind);

struct VerifyReport {
  bool ok = false;
  uint64_t intentions = 0;
  uint64_t noops = 0;
  std::string state_hash;
  std::string replayed_hash;
  std::vector<std::string> problems;
};

// Sequence numbers of one author's chain that are void: after `after` and before `before`
// (both exclusive); `before` is kOpen while the range has no end. A revocation opens a range
// at the author's last seq the revoking node knew; a re-admission closes it. Ranges are
// derived from the root store's status changes by every node (state/root_rules.h), never
// stored nor sent.
struct SeqRange {
  static constexpr uint64_t kOpen = UINT64_MAX;
  uint64_t after = 0;
  uint64_t before = kOpen;
  bool Contains(uint64_t seq) const { return seq > after && seq < before; }
  bool IsOpen() const { return before == kOpen; }
  bool operator==(const SeqRange&) const = default;
};
// Whether one of `ranges` holds `seq`.
bool InAnyRange(const std::vector<SeqRange>& ranges, uint64_t seq);

// What an author may write to a store, as the mesh's root store says.
struct AuthorRights {
  AuthorRights(bool is_member = false) : member(is_member) {}  // NOLINT: a bool reads naturally
  bool member;                        // a member now or once (revoked): may have written here
  std::vector<SeqRange> void_ranges;  // of those, the writes that count for nothing
  std::string void_reason;            // why, for people: who revoked the author, and when
  bool Voids(uint64_t seq) const;
  bool operator==(const AuthorRights&) const = default;
};

// Decides what `author` may write to this store. `own` is the store's batch being built, so
// a policy that reads the store itself (a root store deciding its own writers) sees the
// intentions applied earlier in the same group. Called by the store's writer while it
// applies; must not write to the same store.
using AuthorPolicy = std::function<AuthorRights(std::string_view author, BatchView& own)>;

// Thread-safe: every public method may be called from any thread. Writes are applied by the
// store's one writer thread, so the writer state needs no lock of its own.
class Store {
 public:
  struct Options {
    std::string dir;
    std::string id;                  // 16 raw bytes
    StoreType type = StoreType::kKv;
    const KeyPair* identity = nullptr;   // not owned; outlives the store
    HybridClock* clock = nullptr;        // not owned; outlives the store
    AuthorPolicy may_write;              // empty: every author may write
    uint64_t min_free_bytes = 0;
    size_t write_buffer_bytes = Database::kDefaultWriteBufferBytes;
    // Writes acknowledged once applied are made durable within this time.
    uint64_t max_unsynced_ms = limits::kMaxUnsyncedMs;
    // The file system below the database (Database::Open); nullptr for the real one.
    leveldb::Env* env = nullptr;
    // Keeps a chunk store at <dir>/chunks (fs stores): chunks() is then not null, applied
    // intentions that cite chunks it lacks record them as wanted, and every commit syncs the
    // chunk store first, so no durable intention cites a chunk that is not durable.
    //
    // With a chunk store, min_free_bytes is what chunks leave free (at least
    // kChunkReserveBytes) and the database's own writes may go down to half of it: an unlink
    // is a small write, so it still fits on a disk that file content filled.
    bool keep_chunks = false;
    // Chunk garbage collection (store/chunk_gc.h): a pass every this often on the store's
    // collector thread (0: never, CollectChunks only), with this grace period.
    uint64_t chunk_gc_interval_ms = 5 * 60 * 1000;
    uint64_t chunk_gc_grace_ms = 10 * 60 * 1000;
    uint64_t chunk_gc_touch_ms = 10 * 60 * 1000;  // ChunkGcOptions::touch_window_ms
    // While intentions are held back (stamped beyond the allowed drift), the store waits
    // until the earliest is due by its clock, reading the clock again at least this often:
    // a wall clock that steps forward (NTP) releases them this late at most. Tests that
    // move a fake clock by hand lower it.
    uint64_t held_recheck_ms = 60 * 1000;
    // Where the store publishes its last witness number for mounts to read without a call
    // (lattice/common/published_witness.h), before any write that raised it is acknowledged;
    // empty: nowhere. A file that cannot be opened is logged and left out.
    std::string published_witness_path;
    // The sync index's table is compacted in the background once this many of its leaf
    // records were written since the last time, or a quarter of the items it holds when that
    // is more (sync/index_compaction.h, Database::Compact say why). 0: never.
    uint64_t sync_index_adds_before_compaction = uint64_t{1} << 14;
    // And once no commit has written to it for this long, when what was written since the
    // last compaction is worth one (IndexCompactionSchedule::DueWhenQuiet). 0: never.
    uint64_t sync_index_quiet_ms = 30 * 1000;
  };
  static constexpr uint64_t kChunkReserveBytes = 4ull << 20;

  static absl::StatusOr<std::unique_ptr<Store>> Open(Options options);
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& id() const { return options_.id; }
  StoreType type() const { return options_.type; }

  // Signs and applies one intention holding `ops` as an atomic batch; returns once durable
  // (kSynced) or once applied (kApplied).
  absl::StatusOr<WriteReceipt> WriteKv(std::vector<KvWrite> ops,
                                       Durability durability = Durability::kSynced);
  absl::StatusOr<WriteReceipt> WriteChat(v1::ChatPayload op,
                                         Durability durability = Durability::kSynced);

  // Receives the outcome of an asynchronous write, once. Runs on one of the store's own
  // threads (on the caller's, before the call returns, only for a write refused at once:
  // the limits, a closing store); must be quick and must not wait for a write of this
  // store.
  using WriteCallback = std::function<void(absl::StatusOr<WriteReceipt>)>;
  // WriteKv for callers that must not block a thread per write (the RPC handlers): the
  // write joins the queue and `done` runs once it is durable or failed (at once for a
  // write the limits refuse). Returns at once: the store's writer does the rest.
  void WriteKvAsync(std::vector<KvWrite> ops, WriteCallback done,
                    Durability durability = Durability::kSynced);
  void WriteChatAsync(v1::ChatPayload op, WriteCallback done,
                      Durability durability = Durability::kSynced);

  // Builds the payload of a local write from the state as the store's writer sees it (what
  // every earlier write left, committed or being committed, plus the group's earlier
  // writes), so a check such as "the name is free" and the write that relies on it cannot
  // be separated by another local write. Runs on the writer's thread, possibly more than
  // once (again when the group it was built over failed to commit); returns the payload, or
  // the error the write fails with (nothing is signed then). Must be quick and must not call
  // into this store.
  using PayloadBuilder = std::function<absl::StatusOr<std::string>(BatchView& view)>;
  void WriteBuiltAsync(std::string_view op_type, PayloadBuilder build, WriteCallback done,
                       Durability durability = Durability::kSynced);

  // The sync barrier: `done` gets the witness cursor up to which everything is durable, once
  // every write applied before the call (acknowledged either way, local or foreign) is
  // durable, or the error that kept it from being so. Joins the write queue, so it shares a
  // group's fsync with the writes queued beside it; costs nothing when nothing is unsynced.
  // Runs `done` as a WriteCallback runs (same thread rules).
  using SyncCallback = std::function<void(absl::StatusOr<uint64_t>)>;
  void SyncAsync(SyncCallback done);
  // The same, blocking the caller.
  absl::StatusOr<uint64_t> Sync();

  // Validates foreign intentions (signature first, on the caller's thread) and applies,
  // parks or refuses each; returns once every outcome is durable.
  std::vector<IngestOutcome> Ingest(const std::vector<v1::SignedIntention>& intentions);

  // Recomputes the state from the stored intentions and compares it with the live state.
  // Writes wait while it runs.
  VerifyReport Verify(const std::string& scratch_dir);

  // Brings the applied intentions of `author` in line with `rights` (a revocation or
  // re-admission in the mesh's root store): an intention whose void status changes makes
  // the store rebuild its state from the witness log, in one batch. Returns how many
  // intentions changed status. Writes wait while it runs; cheap when nothing changes.
  absl::StatusOr<uint64_t> Reexamine(const std::string& author, const AuthorRights& rights);

  const Database& db() const { return *db_; }
  // The sync index's upper levels in memory, which reconciliations start from (SyncSnapshot).
  const sync::ResidentTrie& sync_levels() const { return sync_levels_; }

  // The store's chunks (Options::keep_chunks), or nullptr. A chunk put here must be put
  // before the intention that cites it is written (the commit syncs it).
  ChunkStore* chunks() const { return chunks_.get(); }
  // Chunks applied intentions cite that chunks() lacks, in hash order after `after` ("" =
  // from the first), at most `max` (chunk_wants.h). Empty without a chunk store.
  absl::StatusOr<std::vector<std::string>> WantedChunks(size_t max, std::string_view after = {}) const;
  // Marks chunks as wanted again: a cited chunk a read found missing or damaged (DATA_LOSS),
  // which replication then fetches from a peer.
  absl::Status WantChunks(const std::vector<std::string>& hashes);
  // Drops the wants of chunks now in chunks() (replication, once it stored them).
  absl::Status ChunksStored(const std::vector<std::string>& hashes);
  // Grows whenever a commit or WantChunks records new wants: a fetcher that saw the same
  // value before has nothing new to look at.
  uint64_t chunk_wants_generation() const { return chunk_wants_generation_.load(); }
  // One chunk garbage collection pass (store/chunk_gc.h has the rule), on the caller's
  // thread; concurrent writes go on meanwhile. Defined in store/chunk_gc.cc.
  absl::StatusOr<ChunkGcStats> CollectChunks(const ChunkGcOptions& options);
  // Wakes the collector thread for a pass now (a write found the disk full).
  void TriggerChunkGc();

  uint64_t last_witness() const { return last_witness_.load(); }
  // The file last_witness() is published in (Options::published_witness_path), or empty.
  std::string published_witness_path() const {
    return published_witness_ ? published_witness_->path() : std::string();
  }
  // Every intention up to this witness number is durable; at most last_witness().
  uint64_t durable_witness() const { return durable_witness_.load(); }
  uint64_t floating_count() const { return floating_count_.load(); }

  // What the store's background thread is doing, for tests: how many times it woke, and
  // whether it waits now, and until when (nullopt: until something is held or a write
  // starts its sync timer; it never wakes on a timer otherwise).
  struct BackgroundWait {
    uint64_t wakeups = 0;
    bool waiting = false;
    std::optional<std::chrono::steady_clock::time_point> until;
  };
  BackgroundWait background_wait() const;

  // Blocks until last_witness() > after, the deadline passes or the store closes.
  uint64_t WaitForWitness(uint64_t after, std::chrono::steady_clock::time_point deadline) const;

  // Calls `wake` after each durable commit, once last_witness() shows it: how streams learn
  // that the log advanced without polling or holding a thread. Runs on the committing
  // thread; must be quick and must not call into this store. Returns an id for
  // UnsubscribeWitness, after which `wake` is no longer running nor called.
  uint64_t SubscribeWitness(std::function<void()> wake);
  void UnsubscribeWitness(uint64_t id);

  // Visits witnessed intentions with witness numbers in (after, after + max], in order.
  using LogVisitor = std::function<bool(uint64_t witness, const DecodedIntention& intention,
                                        bool noop)>;
  absl::Status ReadLog(uint64_t after, size_t max, const LogVisitor& visit) const;

  absl::StatusOr<std::vector<v1::ForkProof>> ForkProofs() const;

  // The stored signed intention with this hash, witnessed or floating; NOT_FOUND otherwise.
  absl::StatusOr<v1::SignedIntention> FindIntention(std::string_view hash) const;
  // Those of `hashes` this store holds neither witnessed nor floating, in the order given.
  absl::StatusOr<std::vector<std::string>> Lacking(const std::vector<std::string>& hashes) const;

  // What may be handed to peers. An intention this node signed must never leave it while a
  // power cut could still take it (Durability::kApplied): after the cut the node would sign
  // another one at the same place of its chain, a fork its peers would blame on it. Makes
  // every intention applied so far durable, with a sync barrier that blocks the caller for
  // one fsync only when some are not durable yet, and returns the witness up to which
  // everything is durable. `witness`: one the caller read (a commit may show in the database
  // an instant before last_witness() shows it), to be covered too. Replication serves peers
  // nothing witnessed beyond what this returns.
  absl::StatusOr<uint64_t> DurableForPeers(uint64_t witness = 0);

  // For peers: the intentions of `hashes` this store has witnessed, in witness order (so
  // dependencies come first), then the floating ones; the hashes it holds neither way go to
  // `unknown`. Witnessed ones are durable before they are returned (DurableForPeers, which
  // may block for an fsync); those a failed sync left undurable go to `unknown` too.
  absl::Status FindInWitnessOrder(const std::vector<std::string>& hashes,
                                  std::vector<v1::SignedIntention>* found,
                                  std::vector<std::string>* unknown);

  // Dependencies that floating intentions wait for, at most `max` of them.
  std::vector<std::string> MissingDependencies(size_t max) const;

  struct FloatingInfo {
    std::string hash;
    std::string author;
    uint64_t seq = 0;
    uint64_t wall_ms = 0;
    bool held = false;
    std::vector<std::string> missing;
  };
  // The floating (and held) intentions, at most `max`.
  std::vector<FloatingInfo> Floating(size_t max) const;

  // Drops floating intentions that waited longer than `max_age_ms` for their dependencies
  // (IntentionApplier::ExpireFloating). Returns how many.
  absl::StatusOr<uint64_t> ExpireFloating(uint64_t max_age_ms);

  // The highest seq of `author` applied here (0: none), or the error reading it.
  absl::StatusOr<uint64_t> TipSeqOf(std::string_view author) const;

  // Applied intentions that were recorded no-ops.
  uint64_t noop_count() const { return noop_count_.load(); }

  // Called after each durable commit with the intentions it applied, in witness order
  // (replication pushes them to peers), by the thread that committed it, one commit at a
  // time. Must be quick and must not write to this store. Returns an id for Unsubscribe.
  using AppliedListener = std::function<void(const std::vector<DecodedIntention>& applied)>;
  uint64_t Subscribe(AppliedListener listener);
  void Unsubscribe(uint64_t id);
  absl::StatusOr<std::string> StateHash() const;

 private:
  struct Request;     // store/write_request.h
  struct BuiltGroup;  // store/write_request.h
  // How a group's commit ended, for the bookkeeping under queue_mutex_.
  enum class CommitKind { kNone, kApplied, kSynced, kFailed };

  explicit Store(Options options);
  // The state machine of a store of `type`: the live one, and a fresh one for each replay.
  static std::unique_ptr<StateMachine> MakeStateMachine(StoreType type);
  absl::Status LoadWriterState();

  // The write pipeline (store/group_commit.cc). Every request joins queue_ and is completed
  // in queue order. The writer thread takes the requests not yet taken as one group and
  // builds it; while the group before it is being committed it keeps adding what arrives,
  // so a group holds everything that came during the previous commit. It then commits the
  // group itself when nothing waits behind it, or hands it to the committer thread and
  // starts the next group, over the first one's writes. At most one group is being
  // committed at a time.
  //
  // Queues `request` and returns once it is completed. False when the store is closing.
  bool Submit(Request& request);
  // Queues an asynchronous request (one with a callback) and returns at once.
  void SubmitAsync(std::unique_ptr<Request> request);
  void WriterLoop();
  void CommitterLoop();
  // REQUIRES: queue_mutex_ held. The requests not yet taken that a group holding `group`
  // (null: a new one) can take within its limits: a verification or re-examination always
  // runs alone.
  std::vector<Request*> NextRequests(const BuiltGroup* group) const;
  // The writer builds a group in steps (store/group_build.cc): a batch over the database,
  // seen with `in_flight` (the writes of the group being committed, or null) over it; then
  // requests applied into it, as many times as more arrive before the group can go to the
  // disk; then sealed, ready for its commit.
  std::shared_ptr<BuiltGroup> StartGroup(std::shared_ptr<const BatchView::Writes> in_flight);
  void AddToGroup(BuiltGroup& built, const std::vector<Request*>& requests);
  // Where the run of kv writes that starts at `begin` ends (group_build.cc).
  static size_t KvRunEnd(const std::vector<Request*>& requests, size_t begin);
  // A run of kv writes queued together (distinct keys), built into one intention; a writer
  // whose compare-and-set fails is refused alone.
  void AddKvWrites(BuiltGroup& built, std::span<Request* const> run);
  // Stamps, applies and (with the group) signs this node's next intention, whose receipt
  // is every writer's.
  void AddLocalWrite(BuiltGroup& built, std::span<Request* const> writers,
                     std::string_view op_type, std::string payload,
                     const std::vector<std::string>& must_cite);
  void SealGroup(BuiltGroup& built);
  // The writer, with nothing being committed: a verification or a re-examination.
  CommitKind RunAlone(Request& request);
  // The commit stage (one group at a time, in queue order): writes the group's batch,
  // fsynced when one of its requests or the unsynced backlog asks for it, and fills in what
  // is final only then (barriers, failures).
  CommitKind CommitGroup(BuiltGroup& built);
  // Whether CommitGroup fsyncs `built`. Read by the stage about to commit it.
  bool SyncsOnCommit(const BuiltGroup& built) const;
  // The commit stage, after a commit that wrote `leaves_written` leaf records of the index:
  // starts a compaction when one is due; true when one will be once writes stop.
  bool CompactSyncIndexWhenDue(uint64_t leaves_written);
  // The background thread, once no commit wrote to the index for sync_index_quiet_ms.
  void CompactSyncIndexWhenQuiet();
  // REQUIRES: sync_compactions_mutex_ held. Starts a compaction of the index's table in the
  // background; false when the database refused (one running, or no room on the disk).
  bool StartSyncIndexCompaction();
  // REQUIRES: `lock` holds queue_mutex_, `group` is at the front of queue_, just committed
  // or run, and in_flight_ is null (or still `group`'s, see EndCommit). Completes it: wakes
  // its blocking callers and the writer, and queues its callbacks (the replies) behind those
  // of earlier groups; they are sent by the thread already sending replies, else here when
  // `send_replies`, else by the completions thread.
  void CompleteGroup(const std::vector<Request*>& group, CommitKind kind,
                     std::unique_lock<std::mutex>& lock, bool send_replies);
  // REQUIRES: `lock` holds queue_mutex_. Unless another thread is sending replies, sends
  // every queued one, in order, with the lock released meanwhile.
  void SendReplies(std::unique_lock<std::mutex>& lock);
  // REQUIRES: `lock` holds queue_mutex_; the writer's thread. Waits on writer_cv_, to be
  // woken by a submission only once `wake_at` requests wait untaken (and by a commit done).
  void WaitAsWriter(std::unique_lock<std::mutex>& lock, size_t wake_at);
  // Runs the callbacks of asynchronous requests, and frees them.
  static void FinishCalls(const std::vector<Request*>& calls);
  // Until the store closes: queues a release of held intentions once the earliest is due
  // (EarliestHeldDueMs, read again whenever an ingest held one), and a sync barrier once
  // writes have been unsynced for max_unsynced_ms, and compacts the sync index once it has
  // been quiet for sync_index_quiet_ms. With none of these, it waits without a timer.
  void BackgroundLoop();
  void NotifyApplied(std::vector<std::string> hashes, std::vector<DecodedIntention> kept);
  // Tells listeners of what a synced commit made durable: every group committed unsynced
  // before it (unsynced_hashes_), then its own `hashes` and `kept`.
  void NotifyDurable(std::vector<std::string> hashes, std::vector<DecodedIntention> kept);
  // After a commit: publishes the counters and wakes watchers; tells listeners once it is
  // durable (`durable`), so peers never hold an intention this node could lose and then
  // sign again differently.
  void PublishCommit(BuiltGroup& built, bool durable);
  // REQUIRES: `lock` holds queue_mutex_; `built` is in_flight_, just committed as `kind`.
  // Completes its group (CompleteGroup) and ends the commit: first, for a group committed
  // unsynced that asked to be synced at once (BuiltGroup::sync_after), syncs it after its
  // replies are queued, so the next group is committed only behind that sync.
  void EndCommit(const std::shared_ptr<BuiltGroup>& built, CommitKind kind,
                 std::unique_lock<std::mutex>& lock, bool send_replies);
  // The commit stage: makes everything committed so far durable (an empty synced write) and
  // tells the listeners what that released.
  CommitKind SyncCommitted(uint64_t last_witness);
  // The one place a batch is written. `sync`: the log is fsynced, and everything applied
  // before is durable with it, up to `last_witness`. Otherwise the batch is applied only.
  absl::Status Commit(leveldb::WriteBatch* batch, bool sync, uint64_t last_witness);

  absl::StatusOr<WriteReceipt> SubmitLocal(Request& request);
  // Verify and Reexamine as the writer runs them, alone (store/store_verify.cc).
  VerifyReport VerifyQuiet(const std::string& scratch_dir);
  absl::StatusOr<uint64_t> ReexamineQuiet(const std::string& author, const AuthorRights& rights);

  Options options_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<ChunkStore> chunks_;  // with Options::keep_chunks
  std::unique_ptr<PublishedWitnessWriter> published_witness_;
  std::atomic<uint64_t> chunk_wants_generation_{0};
  // The collector thread (Options::chunk_gc_interval_ms).
  void ChunkGcLoop();
  std::mutex gc_mutex_;
  std::condition_variable gc_cv_;
  bool gc_stopping_ = false;
  bool gc_triggered_ = false;
  std::thread gc_thread_;
  std::unique_ptr<StateMachine> state_machine_;

  WriterState state_;  // the writer's only; reloaded from the database after a failed commit
  // Loaded with the writer state, published after each commit from the group's index writes.
  sync::ResidentTrie sync_levels_;

  std::atomic<uint64_t> last_witness_{0};
  std::atomic<uint64_t> durable_witness_{0};
  // The commit stage's only (one commit at a time, handed over under queue_mutex_):
  // requests committed since the last synced commit, and the intentions they applied, held
  // back from listeners until durable.
  uint64_t unsynced_requests_ = 0;
  // Taken by the commit stage and the background thread, before queue_mutex_ when both.
  std::mutex sync_compactions_mutex_;
  sync::IndexCompactionSchedule sync_compactions_;
  std::vector<std::string> unsynced_hashes_;
  std::vector<DecodedIntention> unsynced_intentions_;
  std::atomic<uint64_t> floating_count_{0};
  std::atomic<uint64_t> noop_count_{0};
  mutable std::mutex witness_mutex_;
  mutable std::condition_variable witness_cv_;
  std::mutex witness_listeners_mutex_;
  std::map<uint64_t, std::function<void()>> witness_listeners_;
  uint64_t next_witness_listener_id_ = 1;

  std::mutex listeners_mutex_;
  std::map<uint64_t, AppliedListener> listeners_;
  uint64_t next_listener_id_ = 1;
  std::atomic<bool> has_listeners_{false};  // !listeners_.empty(), read without the lock

  std::mutex queue_mutex_;
  std::deque<Request*> queue_;  // every request not yet completed, in order
  size_t taken_ = 0;            // the first taken_ of queue_ are in groups built or building
  bool stopping_ = false;       // no more requests; the writer drains the queue and stops
  bool committer_stopping_ = false;
  // The group being committed, by the writer or the committer; null when none is.
  std::shared_ptr<BuiltGroup> in_flight_;
  bool handed_over_ = false;    // in_flight_ waits for the committer
  // Failed group commits so far: the writer reloads its state after one, and builds again
  // a group it built over the one that failed.
  uint64_t failed_commits_ = 0;
  // Untaken requests at which a submission wakes the writer: 1 while it waits for work,
  // more while it waits for a commit, none while it runs.
  size_t writer_wakes_at_ = std::numeric_limits<size_t>::max();
  // The callbacks of completed groups, in queue order, not yet run; one thread at a time
  // runs them (sending_replies_).
  std::deque<std::vector<Request*>> replies_;
  bool sending_replies_ = false;
  // When the oldest unsynced commit was made; empty while everything is durable.
  std::optional<std::chrono::steady_clock::time_point> unsynced_since_;
  // Requests to take, a commit done (in_flight_ became null), or stopping.
  std::condition_variable writer_cv_;
  std::condition_variable committer_cv_;  // a group handed over, or the committer stops
  std::condition_variable background_cv_;
  // Guarded by queue_mutex_: an ingest held an intention (or the store just opened), so the
  // background thread reads the earliest held time again.
  bool held_changed_ = true;
  // Guarded by queue_mutex_: the last commit that wrote to the sync index while a compaction
  // would be due once writes stop (set by EndCommit); empty when none would be.
  std::optional<std::chrono::steady_clock::time_point> index_written_at_;
  std::atomic<uint64_t> background_wakeups_{0};
  std::atomic<bool> background_waiting_{false};
  // The background thread's deadline (steady_clock ticks), or kNoDeadline.
  static constexpr std::chrono::steady_clock::rep kNoDeadline =
      std::chrono::steady_clock::time_point::max().time_since_epoch().count();
  std::atomic<std::chrono::steady_clock::rep> background_until_{kNoDeadline};
  std::thread background_;
  std::thread writer_;
  std::thread committer_;
  // Sends replies when neither the committer nor the writer may (the writer has requests
  // to build). Declared last: destroyed first, after the threads above have stopped,
  // running what is left.
  SerialExecutor completions_;
};

}  // namespace lattice::kernel
