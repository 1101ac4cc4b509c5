// The DAG rules of a single store: local writes, ingest of foreign intentions, floating,
// forks, no-ops, conflicts and convergence whatever the delivery order.
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "lattice/common/limits.h"
#include "state/chat_state.h"
#include "state/kv_state.h"
#include "storage/keys.h"
#include "store/sync_snapshot.h"
#include "sync/index_batch.h"
#include "storage/leveldb_kv.h"
#include "sync/range_index.h"
#include "unit/store/test_store.h"
#include "unit/sync/temp_leveldb.h"

namespace lattice::kernel::testing {
namespace {

using Kind = IngestOutcome::Kind;

TEST_F(StoreTest, LocalWritesSurviveReopen) {
  ASSERT_TRUE(store_->WriteKv({{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(store_->WriteKv({{"a", "", true}}).ok());
  OpenStore();
  EXPECT_EQ(Get("a"), "<absent>");
  EXPECT_EQ(Get("b"), "2");
  EXPECT_EQ(store_->last_witness(), 2u);
  auto receipt = store_->WriteKv({{"c", "3"}});
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->witness, 3u);
}

TEST_F(StoreTest, ACompareAndSetWritesOnlyOverTheHeadsItNames) {
  KvWrite create("k", "1");
  create.expected_heads = std::vector<std::string>{};  // only if never written
  auto first = store_->WriteKv({create});
  ASSERT_TRUE(first.ok()) << first.status();
  // The same condition again fails: the key has a head now.
  auto again = store_->WriteKv({create});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAborted) << again.status();

  KvWrite stale("k", "stale");
  stale.expected_heads = std::vector<std::string>{std::string(32, 'x')};
  EXPECT_EQ(store_->WriteKv({stale}).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Get("k"), "1");

  KvWrite update("k", "2");
  update.expected_heads = std::vector<std::string>{first->hash};
  auto second = store_->WriteKv({update});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Get("k"), "2");
  EXPECT_EQ(store_->last_witness(), 2u);  // the refused writes signed nothing
}

TEST_F(StoreTest, AClosedStoreLeavesNoLogToReplay) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(store_->WriteKv({{"k" + std::to_string(i), "v"}}).ok());
  EXPECT_GT(LoggedBytes(dir_.path() + "/store"), 0u);
  store_.reset();
  EXPECT_EQ(LoggedBytes(dir_.path() + "/store"), 0u);  // the close wrote the memtable out
  OpenStore();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Get("k" + std::to_string(i)), "v");
}

TEST_F(StoreTest, LocalChainContinuesAcrossReopen) {
  ASSERT_TRUE(store_->WriteKv({{"a", "1"}}).ok());
  OpenStore();
  ASSERT_TRUE(store_->WriteKv({{"a", "2"}}).ok());
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(store_->ReadLog(0, 10, [&](uint64_t, const DecodedIntention& d, bool) {
    seqs.push_back(d.body.seq());
    return true;
  }).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2}));
}

TEST_F(StoreTest, MemberIntentionApplies) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  auto outcome = IngestOne(other.NextKv("k", "from-other"));
  EXPECT_EQ(outcome.kind, Kind::kApplied) << outcome.reason;
  EXPECT_EQ(Get("k"), "from-other");
}

TEST_F(StoreTest, NonMemberIsRefusedAndNothingApplies) {
  ForeignAuthor stranger(store_id_);
  auto outcome = IngestOne(stranger.NextKv("k", "v"));
  EXPECT_EQ(outcome.kind, Kind::kRejected);
  EXPECT_NE(outcome.reason.find("not an active member"), std::string::npos) << outcome.reason;
  EXPECT_EQ(Get("k"), "<absent>");
  EXPECT_EQ(store_->last_witness(), 0u);
}

TEST_F(StoreTest, ForgedSignatureIsRefused) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  DecodedIntention intention = other.NextKv("k", "v");
  std::string signature = intention.signed_intention.signature();
  signature[5] ^= 0x01;
  intention.signed_intention.set_signature(signature);
  auto outcome = IngestOne(intention);
  EXPECT_EQ(outcome.kind, Kind::kRejected);
  EXPECT_NE(outcome.reason.find("signature"), std::string::npos) << outcome.reason;
  EXPECT_EQ(Get("k"), "<absent>");
}

TEST_F(StoreTest, BodySignedByAnotherKeyIsRefused) {
  ForeignAuthor other(store_id_);
  ForeignAuthor impostor(store_id_);
  members_.insert(other.id());
  DecodedIntention genuine = other.NextKv("k", "v");
  DecodedIntention forged = impostor.NextKv("k", "v");
  genuine.signed_intention.set_signature(forged.signed_intention.signature());
  EXPECT_EQ(IngestOne(genuine).kind, Kind::kRejected);
  EXPECT_EQ(store_->last_witness(), 0u);
}

TEST_F(StoreTest, BrokenChainIsRefused) {
  ForeignAuthor a(store_id_);
  ForeignAuthor b(store_id_);
  members_.insert(a.id());
  members_.insert(b.id());
  DecodedIntention a1 = a.NextKv("x", "1");
  ASSERT_EQ(IngestOne(a1).kind, Kind::kApplied);
  // b's seq 2 names a's intention as its prev: the chain is broken.
  auto outcome = IngestOne(b.At(2, a1.hash, kOpKv, KvPayloadOf("x", "evil")));
  EXPECT_EQ(outcome.kind, Kind::kRejected);
  EXPECT_NE(outcome.reason.find("broken chain"), std::string::npos) << outcome.reason;
  EXPECT_EQ(Get("x"), "1");
}

TEST_F(StoreTest, MissingDependenciesFloatUntilTheyArrive) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  DecodedIntention i1 = other.NextKv("k", "1");
  DecodedIntention i2 = other.NextKv("k", "2", {i1.hash});
  DecodedIntention i3 = other.NextKv("k", "3", {i2.hash});
  EXPECT_EQ(IngestOne(i3).kind, Kind::kFloating);
  EXPECT_EQ(IngestOne(i2).kind, Kind::kFloating);
  EXPECT_EQ(store_->floating_count(), 2u);
  EXPECT_EQ(Get("k"), "<absent>");
  EXPECT_EQ(IngestOne(i1).kind, Kind::kApplied);
  EXPECT_EQ(store_->floating_count(), 0u);
  EXPECT_EQ(store_->last_witness(), 3u);
  EXPECT_EQ(Get("k"), "3");
  EXPECT_EQ(Heads("k").heads_size(), 1);
}

TEST_F(StoreTest, ListenersHearEveryAppliedIntentionOnceInWitnessOrder) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  std::vector<std::string> heard;
  std::mutex mutex;
  uint64_t id = store_->Subscribe([&](const std::vector<DecodedIntention>& applied) {
    std::lock_guard lock(mutex);
    for (const auto& d : applied) heard.push_back(d.hash);
  });
  auto local = store_->WriteKv({{"a", "1"}});
  ASSERT_TRUE(local.ok());
  DecodedIntention i1 = other.NextKv("k", "1");
  DecodedIntention i2 = other.NextKv("k", "2", {i1.hash});
  auto floating = IngestOne(i2);
  ASSERT_EQ(floating.kind, Kind::kFloating);
  ASSERT_EQ(floating.missing, std::vector<std::string>{i1.hash});
  EXPECT_TRUE(store_->FindIntention(i2.hash).ok());  // floating ones can be served too
  IngestOne(i1);
  store_->Unsubscribe(id);
  ASSERT_TRUE(store_->WriteKv({{"b", "2"}}).ok());
  std::lock_guard lock(mutex);
  EXPECT_EQ(heard, (std::vector<std::string>{local->hash, i1.hash, i2.hash}));
  EXPECT_EQ(store_->FindIntention(Blake2b256("nothing")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, FloatingSurvivesReopen) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  DecodedIntention i1 = other.NextKv("k", "1");
  DecodedIntention i2 = other.NextKv("k", "2", {i1.hash});
  ASSERT_EQ(IngestOne(i2).kind, Kind::kFloating);
  OpenStore();
  EXPECT_EQ(store_->floating_count(), 1u);
  EXPECT_EQ(IngestOne(i1).kind, Kind::kApplied);
  EXPECT_EQ(Get("k"), "2");
}

// Runs `work` with `stack_bytes` as the stack of every thread it starts (the default
// attributes of new threads), and restores the default afterwards.
void WithThreadStacksOf(size_t stack_bytes, const std::function<void()>& work) {
  pthread_attr_t saved;
  ASSERT_EQ(pthread_getattr_default_np(&saved), 0);
  pthread_attr_t small;
  ASSERT_EQ(pthread_attr_init(&small), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&small, stack_bytes), 0);
  ASSERT_EQ(pthread_setattr_default_np(&small), 0);
  pthread_attr_destroy(&small);
  work();
  EXPECT_EQ(pthread_setattr_default_np(&saved), 0);
  pthread_attr_destroy(&saved);
}

TEST_F(StoreTest, LongParkedChainIsReleasedWithoutRecursion) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  std::vector<DecodedIntention> chain;
  // Each write replaces the one before, as a writer's would: "k" keeps one head, so the
  // release applies 3,000 writes in linear time (concurrent heads would grow to 3,000).
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> replaces;
    if (!chain.empty()) replaces.push_back(chain.back().hash);
    chain.push_back(other.NextKv("k", std::to_string(i), std::move(replaces)));
  }
  std::vector<v1::SignedIntention> reversed;
  for (auto it = chain.rbegin(); it != chain.rend() - 1; ++it) reversed.push_back(it->signed_intention);
  for (size_t i = 0; i < reversed.size(); i += limits::kMaxIngestPerCall) {
    std::vector<v1::SignedIntention> part(reversed.begin() + i,
                                          reversed.begin() + std::min(reversed.size(), i + limits::kMaxIngestPerCall));
    store_->Ingest(part);
  }
  EXPECT_EQ(store_->last_witness(), 0u);
  // The first link releases the other 2999 on the store's writer thread. The store is
  // reopened (the chain stays parked) with threads of 256 KiB stacks: that holds the
  // iterative release with room to spare; a release that recursed once per link would
  // overflow it and crash.
  WithThreadStacksOf(256 * 1024, [&] { OpenStore(); });
  ASSERT_EQ(store_->floating_count(), 2999u);
  EXPECT_EQ(IngestOne(chain.front()).kind, Kind::kApplied);
  EXPECT_EQ(store_->last_witness(), 3000u);
  EXPECT_EQ(Get("k"), "2999");
}

TEST_F(StoreTest, DuplicateIsReportedAndIgnored) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  DecodedIntention i1 = other.NextKv("k", "1");
  EXPECT_EQ(IngestOne(i1).kind, Kind::kApplied);
  EXPECT_EQ(IngestOne(i1).kind, Kind::kDuplicate);
  EXPECT_EQ(store_->last_witness(), 1u);
}

TEST_F(StoreTest, EquivocationKeepsBothBranchesAndRecordsAFork) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  DecodedIntention left = other.At(1, "", kOpKv, KvPayloadOf("k", "left"));
  DecodedIntention right = other.At(1, "", kOpKv, KvPayloadOf("k", "right"));
  EXPECT_EQ(IngestOne(left).kind, Kind::kApplied);
  EXPECT_EQ(IngestOne(right).kind, Kind::kApplied);
  EXPECT_EQ(Heads("k").heads_size(), 2);
  auto proofs = store_->ForkProofs();
  ASSERT_TRUE(proofs.ok());
  ASSERT_EQ(proofs->size(), 1u);
  auto hash_one_order = store_->StateHash();

  // The same two branches in the other order give the same state.
  TempDir other_dir;
  Store::Options options;
  options.dir = other_dir.path() + "/s";
  options.id = store_id_;
  options.identity = &self_;
  options.clock = &clock_;
  auto second = Store::Open(std::move(options));
  ASSERT_TRUE(second.ok());
  (*second)->Ingest({right.signed_intention});
  (*second)->Ingest({left.signed_intention});
  EXPECT_EQ(*(*second)->StateHash(), *hash_one_order);
  EXPECT_EQ((*second)->ForkProofs()->size(), 1u);
}

TEST_F(StoreTest, UnusablePayloadIsARecordedNoOpAndLaterWritesApply) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  EXPECT_EQ(IngestOne(other.Next(kOpKv, "\xff\xff not a protobuf")).kind, Kind::kApplied);
  EXPECT_EQ(IngestOne(other.Next("mystery.v9", "x")).kind, Kind::kApplied);
  EXPECT_EQ(IngestOne(other.NextKv("k", "after")).kind, Kind::kApplied);
  ASSERT_TRUE(store_->WriteKv({{"mine", "ok"}}).ok());
  EXPECT_EQ(Get("k"), "after");
  EXPECT_EQ(Get("mine"), "ok");
  int noops = 0;
  ASSERT_TRUE(store_->ReadLog(0, 100, [&](uint64_t, const DecodedIntention&, bool noop) {
    noops += noop;
    return true;
  }).ok());
  EXPECT_EQ(noops, 2);
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
  EXPECT_EQ(report.noops, 2u);
}

TEST_F(StoreTest, ConcurrentWritesConflictAndACitingWriteResolvesThem) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  ASSERT_TRUE(store_->WriteKv({{"k", "mine"}}).ok());
  // The other author never saw our write: concurrent.
  ASSERT_EQ(IngestOne(other.NextKv("k", "theirs")).kind, Kind::kApplied);
  v1::KvHeads heads = Heads("k");
  EXPECT_EQ(heads.heads_size(), 2);
  EXPECT_TRUE(ResolveHeads(heads).conflicted);
  ASSERT_TRUE(store_->WriteKv({{"k", "merged"}}).ok());
  heads = Heads("k");
  ASSERT_EQ(heads.heads_size(), 1);
  EXPECT_EQ(heads.heads(0).value(), "merged");
  EXPECT_FALSE(ResolveHeads(heads).conflicted);
}

TEST_F(StoreTest, ReplacedHeadArrivingLaterNeverBecomesAHead) {
  ForeignAuthor a(store_id_);
  ForeignAuthor b(store_id_);
  members_.insert(a.id());
  members_.insert(b.id());
  DecodedIntention a1 = a.NextKv("k", "old");
  // b replaces a1 without citing it as a dependency (allowed; the replace list decides).
  DecodedIntention b1 = b.NextKv("k", "new", {a1.hash});
  EXPECT_EQ(IngestOne(b1).kind, Kind::kApplied);
  EXPECT_EQ(IngestOne(a1).kind, Kind::kApplied);
  EXPECT_EQ(Heads("k").heads_size(), 1);
  EXPECT_EQ(Get("k"), "new");
}

TEST_F(StoreTest, LimitsAreEnforcedWithTheLimitNamed) {
  auto big_key = store_->WriteKv({{std::string(limits::kMaxKeyBytes + 1, 'k'), "v"}});
  EXPECT_EQ(big_key.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(big_key.status().message()).find("4096"), std::string::npos);
  auto big_value = store_->WriteKv({{"k", std::string(limits::kMaxValueBytes + 1, 'v')}});
  EXPECT_EQ(big_value.status().code(), absl::StatusCode::kResourceExhausted);
  std::vector<KvWrite> many;
  for (size_t i = 0; i <= limits::kMaxBatchOps; ++i) many.push_back({"k" + std::to_string(i), "v"});
  EXPECT_EQ(store_->WriteKv(many).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->last_witness(), 0u);
}

TEST_F(StoreTest, TooManyDepsAreRefused) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  std::vector<std::string> deps;
  for (size_t i = 0; i <= limits::kMaxDeps; ++i) deps.push_back(Blake2b256(std::to_string(i)));
  auto outcome = IngestOne(other.NextKv("k", "v", {}, deps));
  EXPECT_EQ(outcome.kind, Kind::kRejected);
  EXPECT_NE(outcome.reason.find("64"), std::string::npos) << outcome.reason;
}

TEST_F(StoreTest, FutureStampedIntentionIsHeldNotApplied) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  uint64_t far_future = clock_.WallMs() + 2 * limits::kMaxClockDriftMs;
  auto outcome = IngestOne(other.NextKv("k", "v", {}, {}, {far_future, 0}));
  EXPECT_EQ(outcome.kind, Kind::kHeld);
  EXPECT_EQ(Get("k"), "<absent>");
}

TEST_F(StoreTest, VerifyDetectsTamperedState) {
  ASSERT_TRUE(store_->WriteKv({{"a", "1"}}).ok());
  VerifyReport clean = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(clean.ok);
  store_.reset();
  {
    leveldb::DB* raw = nullptr;
    leveldb::Options options;
    ASSERT_TRUE(leveldb::DB::Open(options, dir_.path() + "/store", &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    v1::KvHeads forged;
    forged.add_heads()->set_value("forged");
    ASSERT_TRUE(db->Put(leveldb::WriteOptions(), KvHeadsKey("b"), forged.SerializeAsString()).ok());
  }
  OpenStore();
  VerifyReport tampered = store_->Verify(dir_.path() + "/verify");
  EXPECT_FALSE(tampered.ok);
  EXPECT_NE(tampered.state_hash, tampered.replayed_hash);
}

TEST_F(StoreTest, ASyncIndexOfTheFirstFormatMovesIntoLeafRecordsWhenTheStoreOpens) {
  constexpr uint64_t kWrites = 300;  // one intention each
  for (uint64_t i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(store_->WriteKv({{"k" + std::to_string(i), "v"}}).ok());
  }
  store_.reset();
  {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(leveldb::Options(), dir_.path() + "/store", &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    sync::RewriteInFirstFormat(db.get());
    ASSERT_EQ(sync::CountEntries(db.get(), "ni"), kWrites);
    ASSERT_EQ(sync::CountEntries(db.get(), "nl"), 0u);
  }
  OpenStore();
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
  EXPECT_EQ(report.intentions, kWrites);
  ASSERT_TRUE(store_->WriteKv({{"after", "v"}}).ok());
  store_.reset();
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open(leveldb::Options(), dir_.path() + "/store", &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  EXPECT_EQ(sync::CountEntries(db.get(), "ni"), 0u);
  EXPECT_GT(sync::CountEntries(db.get(), "nl"), 0u);
}

TEST_F(StoreTest, GroupedOwnWritesIndexEachIntentionOnceAndVerifyChecksTheIndex) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  ASSERT_EQ(IngestOne(other.NextKv("shared", "theirs")).kind, Kind::kApplied);
  // Concurrent writers: the store groups their intentions, own and superseding ones alike
  // (writes of distinct keys queued together share one intention).
  std::mutex mutex;
  std::set<std::string> own;
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string key = i % 5 == 0 ? "shared" : "k" + std::to_string(t) + "-" + std::to_string(i);
        auto receipt = store_->WriteKv({{key, std::to_string(i)}});
        EXPECT_TRUE(receipt.ok()) << receipt.status();
        if (!receipt.ok()) continue;
        std::lock_guard lock(mutex);
        own.insert(receipt->hash);
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_GE(own.size(), 5u * 8);  // the writes of "shared" are never built together
  VerifyReport clean = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(clean.ok) << (clean.problems.empty() ? "" : clean.problems[0]);
  EXPECT_EQ(clean.intentions, 1u + own.size());
  {
    // A snapshot of the store's database: released before the store closes below.
    auto index = SyncSnapshot::Open(store_->db());
    ASSERT_TRUE(index.ok());
    EXPECT_EQ((*index)->Total()->count, 1u + own.size());
  }

  // An index that holds an item no intention was witnessed for fails verification.
  v1::SignedIntention first;
  ASSERT_TRUE(store_->ReadLog(0, 1, [&](uint64_t, const DecodedIntention& intention, bool) {
    first = intention.signed_intention;
    return false;
  }).ok());
  auto decoded = DecodeTrusted(first);
  ASSERT_TRUE(decoded.ok());
  store_.reset();
  {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(leveldb::Options(), dir_.path() + "/store", &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    LevelDbKv committed(db.get());
    leveldb::WriteBatch batch;
    sync::IndexBatch writer(committed, &batch);
    std::string forged = decoded->hash;
    forged[0] = static_cast<char>(forged[0] ^ 1);
    absl::StatusOr<bool> added = sync::RangeIndex().Add(writer, decoded->body.hlc().wall_ms(),
                                                        sync::IdFromBytes(forged));
    ASSERT_TRUE(added.ok() && *added);
    ASSERT_TRUE(db->Write(leveldb::WriteOptions(), &batch).ok());
  }
  OpenStore();
  VerifyReport tampered = store_->Verify(dir_.path() + "/verify");
  EXPECT_FALSE(tampered.ok);
  EXPECT_EQ(tampered.state_hash, tampered.replayed_hash);
  ASSERT_FALSE(tampered.problems.empty());
  EXPECT_NE(tampered.problems[0].find("sync index"), std::string::npos) << tampered.problems[0];
}

// Three nodes write concurrently and exchange some of their intentions now and then; the
// union of everything written, delivered to a fresh store in many random orders, always
// produces the same state.
TEST(StoreFloating, FloatingIntentionsExpireAndHeldOnesStay) {
  TempDir dir;
  std::string store_id = NewStoreId();
  KeyPair self = GenerateKeyPair();
  std::atomic<uint64_t> now{1'700'000'000'000};
  HybridClock clock([&] { return now.load(); });
  Store::Options options;
  options.dir = dir.path() + "/s";
  options.id = store_id;
  options.identity = &self;
  options.clock = &clock;
  auto store = Store::Open(std::move(options));
  ASSERT_TRUE(store.ok());
  ForeignAuthor author(store_id);
  DecodedIntention first = author.NextKv("a", "1", {}, {}, {now.load(), 0});
  DecodedIntention second = author.NextKv("b", "2", {}, {}, {now.load() + 1, 0});
  DecodedIntention future = ForeignAuthor(store_id).NextKv("f", "x", {}, {},
                                                          {now.load() + 10 * limits::kMaxClockDriftMs, 0});
  auto outcomes = (*store)->Ingest({second.signed_intention, future.signed_intention});
  ASSERT_EQ(outcomes[0].kind, IngestOutcome::Kind::kFloating);
  ASSERT_EQ(outcomes[1].kind, IngestOutcome::Kind::kHeld);
  EXPECT_EQ((*store)->floating_count(), 2u);
  EXPECT_EQ(*(*store)->ExpireFloating(60'000), 0u) << "not old yet";
  now += 61'000;
  EXPECT_EQ(*(*store)->ExpireFloating(60'000), 1u);
  EXPECT_EQ((*store)->floating_count(), 1u) << "the held one stays";
  EXPECT_TRUE((*store)->MissingDependencies(10).empty()) << "its missing entries went with it";
  // Offered again later, with its dependency, it applies.
  auto again = (*store)->Ingest({first.signed_intention, second.signed_intention});
  EXPECT_EQ(again[0].kind, IngestOutcome::Kind::kApplied);
  EXPECT_EQ(again[1].kind, IngestOutcome::Kind::kApplied);
}

TEST(StoreConvergence, EveryDeliveryOrderGivesTheSameState) {
  TempDir dir;
  std::string store_id = NewStoreId();
  std::vector<KeyPair> keys{GenerateKeyPair(), GenerateKeyPair(), GenerateKeyPair()};
  HybridClock clock;
  auto open = [&](const std::string& path, const KeyPair& key) {
    Store::Options options;
    options.dir = path;
    options.id = store_id;
    options.identity = &key;
    options.clock = &clock;
    auto store = Store::Open(std::move(options));
    EXPECT_TRUE(store.ok());
    return *std::move(store);
  };
  std::vector<std::unique_ptr<Store>> nodes;
  for (size_t i = 0; i < keys.size(); ++i) nodes.push_back(open(dir.path() + "/n" + std::to_string(i), keys[i]));

  auto log_of = [](Store& store) {
    std::vector<v1::SignedIntention> log;
    EXPECT_TRUE(store.ReadLog(0, 1'000'000, [&](uint64_t, const DecodedIntention& d, bool) {
      log.push_back(d.signed_intention);
      return true;
    }).ok());
    return log;
  };
  std::mt19937 rng(42);
  for (int step = 0; step < 150; ++step) {
    size_t n = rng() % nodes.size();
    std::string key = "k" + std::to_string(rng() % 6);
    if (rng() % 5 == 0) {
      ASSERT_TRUE(nodes[n]->WriteKv({{key, "", true}}).ok());
    } else {
      ASSERT_TRUE(nodes[n]->WriteKv({{key, "v" + std::to_string(step)}, {"x" + std::to_string(step % 3), "b"}}).ok());
    }
    if (rng() % 4 == 0) {
      size_t to = rng() % nodes.size();
      if (to != n) nodes[to]->Ingest(log_of(*nodes[n]));
    }
  }
  std::map<std::string, v1::SignedIntention> everything;
  for (auto& node : nodes) {
    for (auto& s : log_of(*node)) everything.emplace(Blake2b256(s.body()), s);
  }
  std::vector<v1::SignedIntention> all;
  for (auto& [hash, s] : everything) all.push_back(s);

  std::set<std::string> state_hashes;
  std::set<sync::Fingerprint> fingerprints;
  bool saw_conflict = false;
  for (int permutation = 0; permutation < 12; ++permutation) {
    std::shuffle(all.begin(), all.end(), rng);
    auto fresh = open(dir.path() + "/p" + std::to_string(permutation), keys[0]);
    for (size_t i = 0; i < all.size(); i += 7) {
      fresh->Ingest({all.begin() + i, all.begin() + std::min(all.size(), i + 7)});
    }
    EXPECT_EQ(fresh->last_witness(), all.size());
    EXPECT_EQ(fresh->floating_count(), 0u);
    state_hashes.insert(*fresh->StateHash());
    // The sync index holds exactly the witnessed set, whatever order built it.
    auto snapshot = SyncSnapshot::Open(fresh->db());
    ASSERT_TRUE(snapshot.ok());
    auto total = (*snapshot)->Total();
    ASSERT_TRUE(total.ok());
    EXPECT_EQ(total->count, all.size());
    fingerprints.insert(sync::FingerprintOf(*total));
    for (int k = 0; k < 6; ++k) {
      auto heads = ReadHeads(fresh->db(), "k" + std::to_string(k));
      saw_conflict |= heads.ok() && heads->heads_size() > 1;
    }
  }
  EXPECT_EQ(state_hashes.size(), 1u);
  EXPECT_EQ(fingerprints.size(), 1u);
  EXPECT_TRUE(saw_conflict) << "the scenario should produce at least one conflicted key";
}

class ChatStoreTest : public StoreTest {
 protected:
  void SetUp() override { OpenStore(StoreType::kChat); }

  WriteReceipt Post(const std::string& channel, const std::string& text) {
    v1::ChatPayload payload;
    payload.mutable_post()->set_channel(channel);
    payload.mutable_post()->set_text(text);
    payload.mutable_post()->set_sender("me");
    auto receipt = store_->WriteChat(payload);
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return *receipt;
  }

  std::vector<std::string> Texts(const std::string& channel) {
    auto page = ReadChatHistory(store_->db(), channel, 100, "");
    std::vector<std::string> texts;
    if (page.ok()) for (const auto& m : page->messages) texts.push_back(m.text());
    return texts;
  }
};

TEST_F(ChatStoreTest, HistoryIsInCausalOrderWithRepliesAfterParents) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  WriteReceipt first = Post("#general", "hello");
  // "second" is stamped a few ms later; in the same ms it would tie with the reply's slot
  // right after its parent and the two concurrent entries would order by hash.
  clock_.Observe({first.hlc.wall_ms + 5, 0});
  Post("#general", "second");
  // A reply from a node whose clock is far behind still sorts after its parent.
  v1::ChatPayload reply;
  reply.mutable_reply()->set_ref(first.hash);
  reply.mutable_reply()->set_text("hi back");
  auto outcome = IngestOne(other.Next(kOpChat, reply.SerializeAsString(), {first.hash}, {1000, 0}));
  ASSERT_EQ(outcome.kind, Kind::kApplied) << outcome.reason;
  ASSERT_TRUE(outcome.reason.empty()) << outcome.reason;
  auto texts = Texts("#general");
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_EQ(texts[0], "hello");
  EXPECT_EQ(texts[1], "hi back");
  EXPECT_EQ(texts[2], "second");
}

TEST_F(ChatStoreTest, ReplyNotCitingItsParentIsANoOp) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  WriteReceipt first = Post("#general", "hello");
  v1::ChatPayload reply;
  reply.mutable_reply()->set_ref(first.hash);
  reply.mutable_reply()->set_text("uncited");
  auto outcome = IngestOne(other.Next(kOpChat, reply.SerializeAsString()));
  EXPECT_EQ(outcome.kind, Kind::kApplied);
  EXPECT_FALSE(outcome.reason.empty());
  EXPECT_EQ(Texts("#general").size(), 1u);
}

TEST_F(ChatStoreTest, AReplyToThisNodesOwnLastMessageIsKept) {
  // Its parent is the author's previous intention, which the chain cites as prev, not in deps.
  WriteReceipt first = Post("#general", "hello");
  v1::ChatPayload reply;
  reply.mutable_reply()->set_ref(first.hash);
  reply.mutable_reply()->set_text("and more");
  auto receipt = store_->WriteChat(reply);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(Texts("#general"), (std::vector<std::string>{"hello", "and more"}));
}

TEST_F(ChatStoreTest, TopicIsTheLatestByClock) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  v1::ChatPayload topic;
  topic.mutable_topic()->set_channel("#t");
  topic.mutable_topic()->set_text("new topic");
  ASSERT_TRUE(store_->WriteChat(topic).ok());
  topic.mutable_topic()->set_text("stale topic");
  ASSERT_EQ(IngestOne(other.Next(kOpChat, topic.SerializeAsString(), {}, {1000, 0})).kind, Kind::kApplied);
  auto current = ReadTopic(store_->db(), "#t");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->text(), "new topic");
}

TEST_F(ChatStoreTest, HistoryPagesBackwards) {
  for (int i = 0; i < 7; ++i) Post("#p", "m" + std::to_string(i));
  auto page = ReadChatHistory(store_->db(), "#p", 3, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->messages.size(), 3u);
  EXPECT_EQ(page->messages.back().text(), "m6");
  auto older = ReadChatHistory(store_->db(), "#p", 3, page->next_before);
  ASSERT_TRUE(older.ok());
  ASSERT_EQ(older->messages.size(), 3u);
  EXPECT_EQ(older->messages.front().text(), "m1");
  EXPECT_EQ(older->messages.back().text(), "m3");
}

}  // namespace
}  // namespace lattice::kernel::testing
