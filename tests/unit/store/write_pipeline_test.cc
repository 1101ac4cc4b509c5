// The store's write pipeline (store/group_commit.cc): writes are built and committed by the
// store's own threads, the next group is built over the one being committed, a group built
// over a commit that failed is built again, and a group's intentions signed together are
// all signed.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "lattice/common/hex.h"
#include "state/kv_state.h"
#include "storage/keys.h"
#include "storage/sealed_log_env.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

// A gate a test opens once: Wait blocks until then.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return open_; });
  }
  bool IsOpen() {
    std::lock_guard lock(mutex_);
    return open_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A file system whose write-ahead log, once armed, holds its next append until released and
// then fails it (nothing of it reaches the file): the commit in flight fails while the
// writer builds the next group over it.
class FailingLogEnv final : public leveldb::EnvWrapper {
 public:
  FailingLogEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

  void Arm() { armed_ = true; }
  Gate& held() { return held_; }
  Gate& release() { return release_; }

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (s.ok() && IsWriteAheadLog(name)) *result = new TrappedLog(this, *result);
    return s;
  }
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewAppendableFile(name, result);
    if (s.ok() && IsWriteAheadLog(name)) *result = new TrappedLog(this, *result);
    return s;
  }

 private:
  class TrappedLog final : public leveldb::WritableFile {
   public:
    TrappedLog(FailingLogEnv* env, leveldb::WritableFile* base) : env_(env), base_(base) {}
    leveldb::Status Append(const leveldb::Slice& data) override {
      if (env_->armed_.exchange(false)) {
        env_->held_.Open();
        env_->release_.Wait(60s);
        return leveldb::Status::IOError("injected: the log append failed");
      }
      return base_->Append(data);
    }
    leveldb::Status Close() override { return base_->Close(); }
    leveldb::Status Flush() override { return base_->Flush(); }
    leveldb::Status Sync() override { return base_->Sync(); }

   private:
    FailingLogEnv* env_;
    std::unique_ptr<leveldb::WritableFile> base_;
  };

  std::atomic<bool> armed_{false};
  Gate held_;
  Gate release_;
};

// Holds the store's writer in the build of a write of its own until `go_on` opens (once
// `building` is open), so what is submitted meanwhile queues up behind it.
struct HeldWriter {
  explicit HeldWriter(Store& store) {
    store.WriteBuiltAsync(
        kOpKv,
        [this](BatchView&) -> absl::StatusOr<std::string> {
          building.Open();
          go_on.Wait(60s);
          return KvPayloadOf("held", "1");
        },
        [this](absl::StatusOr<WriteReceipt> r) {
          result.set_value(r);
          done.Open();
        });
  }
  // A test that stops early still lets the writer finish before the gates go away.
  ~HeldWriter() {
    go_on.Open();
    done.Wait(60s);
  }
  Gate building, go_on, done;
  std::promise<absl::StatusOr<WriteReceipt>> result;
};

class WritePipelineTest : public ::testing::Test {
 protected:
  void TearDown() override { store_.reset(); }

  void Open(leveldb::Env* env = nullptr) {
    Store::Options options = StoreOptions(dir_.path() + "/store", store_id_, self_, clock_);
    options.env = env;
    auto opened = Store::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  v1::KvHeads Heads(const std::string& key) {
    auto heads = ReadHeads(store_->db(), key);
    return heads.ok() ? *heads : v1::KvHeads();
  }

  TempDir dir_;
  std::string store_id_ = NewStoreId();
  KeyPair self_ = GenerateKeyPair();
  HybridClock clock_;
  FailingLogEnv failing_env_;  // outlives the store that may run on it
  std::unique_ptr<Store> store_;
};

// An RPC handler only queues its write: the reply is sent from the store's threads, so a
// gRPC thread never waits for a commit's fsync.
TEST_F(WritePipelineTest, AnAsynchronousWriteIsCompletedOnTheStoresThreads) {
  Open();
  for (int i = 0; i < 20; ++i) {
    std::promise<std::thread::id> completed_on;
    store_->WriteKvAsync({{"k" + std::to_string(i), "v"}}, [&](absl::StatusOr<WriteReceipt> r) {
      EXPECT_TRUE(r.ok()) << r.status();
      completed_on.set_value(std::this_thread::get_id());
    });
    EXPECT_NE(completed_on.get_future().get(), std::this_thread::get_id());
  }
}

// Compare-and-set increments from many threads: each group is built while the one before it
// is committed, and must see that group's writes, or two increments over the same heads would
// both succeed and one would be lost.
TEST_F(WritePipelineTest, GroupsBuiltWhileAnotherCommitsSeeItsWrites) {
  Open();
  ASSERT_TRUE(store_->WriteKv({{"n", "0"}}).ok());
  constexpr int kThreads = 8;
  constexpr int kIncrements = 40;
  std::atomic<int> aborted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrements;) {
        v1::KvHeads heads = Heads("n");
        KvRead read = ResolveHeads(heads);
        ASSERT_TRUE(read.found);
        KvWrite write("n", std::to_string(std::stoi(read.winner.value()) + 1));
        std::vector<std::string> expected;
        for (const auto& head : heads.heads()) expected.push_back(head.hash());
        write.expected_heads = expected;
        auto receipt = store_->WriteKv({write});
        if (!receipt.ok() && receipt.status().code() == absl::StatusCode::kAborted) {
          ++aborted;
          continue;
        }
        ASSERT_TRUE(receipt.ok()) << receipt.status();
        ++done;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  v1::KvHeads heads = Heads("n");
  ASSERT_EQ(heads.heads_size(), 1);
  EXPECT_EQ(heads.heads(0).value(), std::to_string(kThreads * kIncrements));
  EXPECT_GT(aborted.load(), 0);  // the writes did race
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems.front());
}

// The group being committed fails while the next one is already built over its writes: the
// next one is built again from what the failure left, so its intention takes the failed one's
// place in the chain, and its builder no longer sees the failed write.
TEST_F(WritePipelineTest, AGroupBuiltOverAFailedCommitIsBuiltAgain) {
  FailingLogEnv& env = failing_env_;
  Open(&env);
  auto first = store_->WriteKv({{"a", "0"}});
  ASSERT_TRUE(first.ok()) << first.status();

  Gate building_failed, go_on;
  std::promise<absl::StatusOr<WriteReceipt>> failed_result;
  env.Arm();
  store_->WriteBuiltAsync(
      kOpKv,
      [&](BatchView&) -> absl::StatusOr<std::string> {
        building_failed.Open();
        go_on.Wait(60s);
        return KvPayloadOf("b", "1");
      },
      [&](absl::StatusOr<WriteReceipt> r) { failed_result.set_value(r); });
  ASSERT_TRUE(building_failed.Wait(60s));

  std::mutex mutex;
  std::vector<bool> saw_failed_write;  // per build of the second write
  std::promise<absl::StatusOr<WriteReceipt>> second_result;
  store_->WriteBuiltAsync(
      kOpKv,
      [&](BatchView& view) -> absl::StatusOr<std::string> {
        std::lock_guard lock(mutex);
        saw_failed_write.push_back(view.Contains(KvHeadsKey("b")));
        return KvPayloadOf("c", "2");
      },
      [&](absl::StatusOr<WriteReceipt> r) { second_result.set_value(r); });
  // The first group is handed to the committer (the second waits behind it), whose log
  // append is held; the writer builds the second group over the first meanwhile.
  go_on.Open();
  ASSERT_TRUE(env.held().Wait(60s));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mutex);
    return !saw_failed_write.empty();
  }, 60'000ms));
  env.release().Open();

  absl::StatusOr<WriteReceipt> failed = failed_result.get_future().get();
  absl::StatusOr<WriteReceipt> second = second_result.get_future().get();
  EXPECT_FALSE(failed.ok());
  ASSERT_TRUE(second.ok()) << second.status();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(saw_failed_write, (std::vector<bool>{true, false}));
  }
  EXPECT_EQ(second->witness, first->witness + 1);
  EXPECT_EQ(Heads("b").heads_size(), 0);
  EXPECT_EQ(Heads("c").heads_size(), 1);
  auto stored = store_->FindIntention(second->hash);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto decoded = DecodeAndVerify(*stored);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->body.seq(), 2u);
  EXPECT_EQ(decoded->body.prev(), first->hash);
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems.front());
}

// Many writes queued at once make large groups, whose intentions are signed together after
// they are applied (on several cores): every stored intention and every one handed to a
// listener carries a signature that verifies. The writes all name one key, so each is an
// intention of its own (writes of distinct keys queued together share one).
TEST_F(WritePipelineTest, EveryIntentionOfALargeGroupIsSigned) {
  Open();
  std::mutex mutex;
  std::vector<DecodedIntention> heard;
  store_->Subscribe([&](const std::vector<DecodedIntention>& applied) {
    std::lock_guard lock(mutex);
    heard.insert(heard.end(), applied.begin(), applied.end());
  });
  constexpr int kWrites = 200;
  std::vector<std::string> hashes(kWrites);
  std::atomic<int> acknowledged{0};
  for (int i = 0; i < kWrites; ++i) {
    store_->WriteKvAsync({{"k", std::to_string(i)}}, [&, i](absl::StatusOr<WriteReceipt> r) {
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) hashes[static_cast<size_t>(i)] = r->hash;
      ++acknowledged;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return acknowledged.load() == kWrites; }, 60'000ms));
  for (const auto& hash : hashes) {
    auto stored = store_->FindIntention(hash);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_TRUE(DecodeAndVerify(*stored).ok());
  }
  EXPECT_EQ(std::set<std::string>(hashes.begin(), hashes.end()).size(),
            static_cast<size_t>(kWrites));
  std::lock_guard lock(mutex);
  ASSERT_EQ(heard.size(), static_cast<size_t>(kWrites));
  for (const auto& intention : heard) {
    EXPECT_TRUE(DecodeAndVerify(intention.signed_intention).ok()) << ToHex(intention.hash);
  }
}

// Kv writes of distinct keys queued while the writer is busy are built into one intention:
// one signature and one record for all of them, each caller given its receipt. A writer whose
// compare-and-set fails is refused alone, and a second write of a key already in the run
// starts an intention of its own, which replaces the first.
TEST_F(WritePipelineTest, KvWritesQueuedTogetherShareOneIntention) {
  Open();
  auto before = store_->WriteKv({{"cas", "0"}});
  ASSERT_TRUE(before.ok()) << before.status();
  HeldWriter held(*store_);  // what follows queues up behind it
  ASSERT_TRUE(held.building.Wait(60s));

  struct Submitted {
    std::vector<KvWrite> writes;
    std::promise<absl::StatusOr<WriteReceipt>> result;
  };
  std::vector<Submitted> submitted(7);
  for (int i = 0; i < 4; ++i) submitted[static_cast<size_t>(i)].writes = {{"k" + std::to_string(i), "v"}};
  KvWrite stale("cas", "1");
  stale.expected_heads = std::vector<std::string>{std::string(32, '\x01')};
  submitted[4].writes = {stale};
  submitted[5].writes = {{"k0", "again"}, {"k9", "w"}};  // k0 is in the run already
  submitted[6].writes = {{"k8", "w"}};
  for (auto& one : submitted) {
    store_->WriteKvAsync(one.writes, [&one](absl::StatusOr<WriteReceipt> r) { one.result.set_value(r); });
  }
  held.go_on.Open();
  ASSERT_TRUE(held.result.get_future().get().ok());
  std::vector<absl::StatusOr<WriteReceipt>> results;
  for (auto& one : submitted) results.push_back(one.result.get_future().get());

  for (int i : {0, 1, 2, 3, 5, 6}) ASSERT_TRUE(results[static_cast<size_t>(i)].ok()) << i << ": " << results[static_cast<size_t>(i)].status();
  EXPECT_EQ(results[4].status().code(), absl::StatusCode::kAborted) << results[4].status();
  const std::string first = results[0]->hash;
  for (int i : {1, 2, 3}) EXPECT_EQ(results[static_cast<size_t>(i)]->hash, first) << i;
  EXPECT_NE(results[5]->hash, first);
  EXPECT_EQ(results[6]->hash, results[5]->hash);  // the run the second k0 starts

  auto stored = store_->FindIntention(first);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto decoded = DecodeAndVerify(*stored);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  auto payload = ParseKvPayload(decoded->body.payload());
  ASSERT_TRUE(payload.ok()) << payload.status();
  std::set<std::string> keys;
  for (const auto& op : payload->ops()) keys.insert(op.key());
  EXPECT_EQ(keys, (std::set<std::string>{"k0", "k1", "k2", "k3"}));

  ASSERT_EQ(Heads("k0").heads_size(), 1);
  EXPECT_EQ(Heads("k0").heads(0).value(), "again");
  ASSERT_EQ(Heads("cas").heads_size(), 1);
  EXPECT_EQ(Heads("cas").heads(0).value(), "0");
  EXPECT_EQ(Heads("k8").heads(0).hash(), results[6]->hash);
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems.front());
}

// Writes queued together whose keys and values fit one batch, but whose replaced heads would
// take the shared payload over an intention's limit, are each built alone: no intention is
// made that a peer would refuse.
TEST_F(WritePipelineTest, WritesTooLargeTogetherWithTheirHeadsAreBuiltAlone) {
  Open();
  constexpr int kKeys = 1000;
  auto key_of = [](int i) { return "c" + std::to_string(i); };
  // Four concurrent foreign writes of every key: each key has four heads to replace.
  for (int author = 0; author < 4; ++author) {
    ForeignAuthor other(store_id_);
    v1::KvPayload payload;
    for (int i = 0; i < kKeys; ++i) {
      v1::KvOp* op = payload.add_ops();
      op->set_key(key_of(i));
      op->set_value("theirs");
    }
    auto outcomes = store_->Ingest({other.Next(kOpKv, payload.SerializeAsString()).signed_intention});
    ASSERT_EQ(outcomes.size(), 1u);
    ASSERT_EQ(outcomes.front().kind, IngestOutcome::Kind::kApplied) << outcomes.front().reason;
  }
  ASSERT_EQ(Heads(key_of(0)).heads_size(), 4);

  HeldWriter held(*store_);
  ASSERT_TRUE(held.building.Wait(60s));
  // Keys and values of about 4.15 MB, within one batch (limits::kMaxBatchBytes); with four
  // replaced heads an op, over an intention's payload (limits::kMaxPayloadBytes).
  // A hundred batches of ten keys: one run, within a group's count of requests.
  const std::string value(4150, 'v');
  constexpr int kKeysPerBatch = 10;
  std::vector<std::promise<absl::StatusOr<WriteReceipt>>> results(kKeys / kKeysPerBatch);
  for (int b = 0; b < kKeys / kKeysPerBatch; ++b) {
    std::vector<KvWrite> batch;
    for (int i = b * kKeysPerBatch; i < (b + 1) * kKeysPerBatch; ++i) batch.push_back({key_of(i), value});
    auto& result = results[static_cast<size_t>(b)];
    store_->WriteKvAsync(batch, [&result](absl::StatusOr<WriteReceipt> r) { result.set_value(r); });
  }
  held.go_on.Open();
  ASSERT_TRUE(held.result.get_future().get().ok());
  std::set<std::string> hashes;
  for (auto& result : results) {
    absl::StatusOr<WriteReceipt> receipt = result.get_future().get();
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    hashes.insert(receipt->hash);
  }
  EXPECT_GT(hashes.size(), 1u);
  for (const auto& hash : hashes) {
    auto stored = store_->FindIntention(hash);
    ASSERT_TRUE(stored.ok()) << stored.status();
    auto decoded = DecodeAndVerify(*stored);  // refuses a payload over the limit, as a peer does
    ASSERT_TRUE(decoded.ok()) << decoded.status();
  }
  ASSERT_EQ(Heads(key_of(kKeys - 1)).heads_size(), 1);
  EXPECT_EQ(Heads(key_of(kKeys - 1)).heads(0).value(), value);
}

TEST_F(WritePipelineTest, ALargeRunReadsItsHeadsAheadAndReplacesEachKeysHeads) {
  Open();
  auto key_of = [](int i) { return fmt::format("p{:04}", i); };
  std::vector<KvWrite> evens;
  for (int i = 0; i < 400; i += 2) evens.push_back({key_of(i), "old"});
  auto first = store_->WriteKv(evens);
  ASSERT_TRUE(first.ok()) << first.status();

  // 400 keys, every other one written before: each compare-and-set holds only if the heads
  // read ahead for the run are the key's own.
  std::vector<KvWrite> all;
  for (int i = 0; i < 400; ++i) {
    KvWrite write(key_of(i), "new");
    write.expected_heads = i % 2 == 0 ? std::vector<std::string>{first->hash}
                                      : std::vector<std::string>{};
    all.push_back(write);
  }
  auto second = store_->WriteKv(all);
  ASSERT_TRUE(second.ok()) << second.status();
  for (int i : {0, 1, 2, 199, 398, 399}) {
    v1::KvHeads heads = Heads(key_of(i));
    ASSERT_EQ(heads.heads_size(), 1) << key_of(i);
    EXPECT_EQ(heads.heads(0).value(), "new");
    EXPECT_EQ(heads.heads(0).hash(), second->hash);
  }

  // Two large runs in one group, the second over keys of the first: its heads are the ones
  // the first just wrote in the same batch, not the ones read ahead from the database.
  HeldWriter held(*store_);
  ASSERT_TRUE(held.building.Wait(60s));
  std::vector<KvWrite> third, fourth;
  for (int i = 0; i < 100; ++i) third.push_back({key_of(i), "third"});
  for (int i = 50; i < 150; ++i) fourth.push_back({key_of(i), "fourth"});
  std::promise<absl::StatusOr<WriteReceipt>> third_done, fourth_done;
  store_->WriteKvAsync(third, [&](absl::StatusOr<WriteReceipt> r) { third_done.set_value(r); });
  store_->WriteKvAsync(fourth, [&](absl::StatusOr<WriteReceipt> r) { fourth_done.set_value(r); });
  held.go_on.Open();
  ASSERT_TRUE(held.result.get_future().get().ok());
  auto third_receipt = third_done.get_future().get();
  auto fourth_receipt = fourth_done.get_future().get();
  ASSERT_TRUE(third_receipt.ok()) << third_receipt.status();
  ASSERT_TRUE(fourth_receipt.ok()) << fourth_receipt.status();
  ASSERT_NE(third_receipt->hash, fourth_receipt->hash);
  for (int i : {0, 49}) {
    ASSERT_EQ(Heads(key_of(i)).heads_size(), 1);
    EXPECT_EQ(Heads(key_of(i)).heads(0).value(), "third");
  }
  for (int i : {50, 99, 100, 149}) {
    ASSERT_EQ(Heads(key_of(i)).heads_size(), 1) << key_of(i);
    EXPECT_EQ(Heads(key_of(i)).heads(0).value(), "fourth");
  }
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems.front());
}

}  // namespace
}  // namespace lattice::kernel::testing
