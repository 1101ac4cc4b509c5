// What the sync tests on a real LevelDB share: a database in a fresh temporary directory
// for each test (named after the suite and the test, removed after it), random items, and
// a reconciliation of two indexes as the kernel runs one.
#pragma once

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sync/index_batch.h"
#include "storage/leveldb_kv.h"
#include "sync/negentropy.h"
#include "sync/range_index.h"
#include "sync/resident_trie.h"

namespace lattice::kernel::sync {

// An item stamped in [base, base + span) (at base when span is 0), with a random id.
inline Item RandomItem(std::mt19937_64& rng, uint64_t base, uint64_t span) {
  Item item;
  item.timestamp = base + (span == 0 ? 0 : rng() % span);
  for (size_t i = 0; i < kIdBytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(item.id.data() + i, &v, 8);
  }
  return item;
}

// A database in `dir`, emptied first.
inline std::unique_ptr<leveldb::DB> OpenEmptyDb(const std::string& dir) {
  std::filesystem::remove_all(dir);
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  EXPECT_TRUE(leveldb::DB::Open(options, dir, &raw).ok());
  return std::unique_ptr<leveldb::DB>(raw);
}

// Adds `items` to `index` through `writer`; returns how many of them were new.
inline uint64_t AddThrough(const RangeIndex& index, IndexBatch& writer,
                           const std::vector<Item>& items) {
  uint64_t added = 0;
  for (const Item& item : items) {
    absl::StatusOr<bool> add = index.Add(writer, item.timestamp, item.id);
    EXPECT_TRUE(add.ok()) << add.status();
    added += add.value_or(false) ? 1 : 0;
  }
  return added;
}

// Adds the items of `lists` to the index of `db` in one committed batch, and returns what
// the batch put (for a ResidentTrie to publish).
inline IndexUpdate AddInOneBatch(leveldb::DB* db,
                                 std::initializer_list<const std::vector<Item>*> lists) {
  RangeIndex index;
  LevelDbKv committed(db);
  leveldb::WriteBatch batch;
  IndexBatch writer(committed, &batch);
  uint64_t added = 0;
  for (const std::vector<Item>* list : lists) added += AddThrough(index, writer, *list);
  EXPECT_TRUE(db->Write(leveldb::WriteOptions(), &batch).ok());
  return writer.Update(added);
}

// Entries of `db` under the key prefix `table`.
inline size_t CountEntries(leveldb::DB* db, const std::string& table) {
  size_t count = 0;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(table); it->Valid() && it->key().starts_with(table); it->Next()) ++count;
  return count;
}

// Rewrites the index of `db` (under `prefix`) in its first format, one entry an item
// (prefix 'i' K -> ""), as a store written before leaf records holds it.
inline void RewriteInFirstFormat(leveldb::DB* db, const std::string& prefix = "n") {
  constexpr size_t kKeyBytes = 40;
  leveldb::WriteBatch batch;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  const std::string leaves = prefix + "l";
  for (it->Seek(leaves); it->Valid() && it->key().starts_with(leaves); it->Next()) {
    std::string items = it->value().ToString().substr(1);  // after the format byte
    for (size_t at = 0; at < items.size(); at += kKeyBytes) {
      batch.Put(prefix + "i" + items.substr(at, kKeyBytes), "");
    }
    batch.Delete(it->key());
  }
  EXPECT_TRUE(db->Write(leveldb::WriteOptions(), &batch).ok());
}

// The index of `db` over a snapshot pinned now, through `levels` (null: LevelDB alone):
// what the kernel reads for one message.
struct PinnedIndex {
  PinnedIndex(leveldb::DB* db, std::shared_ptr<const ResidentLevels> levels)
      : kv(LevelDbKv::Pinned(db)), reader(*kv, std::move(levels)) {}
  std::unique_ptr<LevelDbKv> kv;
  RangeIndexReader reader;
};

// LevelDB reads each side made over a whole sync, summed over its messages.
struct SyncReads {
  uint64_t initiator = 0;
  uint64_t responder = 0;
};

// Reconciles the index of `db_a` (the initiator) with that of `db_b`, pinning each side
// afresh for every message, and expects the initiator to end finding that it has exactly
// `only_a` and needs exactly `only_b`, both sides with the default options. Adds each side's
// reads to `reads` when given.
inline void ExpectIndexesReconcile(leveldb::DB* db_a,
                                   std::shared_ptr<const ResidentLevels> levels_a,
                                   leveldb::DB* db_b,
                                   std::shared_ptr<const ResidentLevels> levels_b,
                                   const std::vector<Item>& only_a,
                                   const std::vector<Item>& only_b,
                                   SyncReads* reads = nullptr) {
  SyncReads counted;
  auto initiator = NegentropySession::Create(Role::kInitiator);
  auto responder = NegentropySession::Create(Role::kResponder);
  ASSERT_TRUE(initiator.ok() && responder.ok());
  std::set<ItemId> have, need;
  PinnedIndex first(db_a, levels_a);
  auto message = initiator->Initiate(first.reader);
  ASSERT_TRUE(message.ok()) << message.status();
  counted.initiator += first.reader.reads();
  std::string next = *message;
  for (int round = 0; round < 10; ++round) {
    PinnedIndex b(db_b, levels_b);
    auto answer = responder->Reconcile(b.reader, next);
    ASSERT_TRUE(answer.ok()) << answer.status();
    counted.responder += b.reader.reads();
    PinnedIndex a(db_a, levels_a);
    auto step = initiator->Reconcile(a.reader, *answer->reply);
    ASSERT_TRUE(step.ok()) << step.status();
    counted.initiator += a.reader.reads();
    have.insert(step->have.begin(), step->have.end());
    need.insert(step->need.begin(), step->need.end());
    if (!step->reply) break;
    next = *step->reply;
  }
  EXPECT_TRUE(initiator->done());
  std::set<ItemId> expected_have, expected_need;
  for (const Item& item : only_a) expected_have.insert(item.id);
  for (const Item& item : only_b) expected_need.insert(item.id);
  EXPECT_EQ(have, expected_have);
  EXPECT_EQ(need, expected_need);
  if (reads != nullptr) *reads = counted;
}

class TempLevelDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("lattice-" + std::string(test->test_suite_name()) + "-" + std::to_string(getpid()) +
            "-" + test->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Opens the database again (closing it first), keeping what it holds.
  void Open() {
    db_.reset();
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, dir_.string(), &raw).ok());
    db_.reset(raw);
  }

  // Where a test keeps a second database (it removes it itself).
  std::string SecondDir() const { return dir_.string() + "-b"; }

  std::filesystem::path dir_;
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace lattice::kernel::sync
