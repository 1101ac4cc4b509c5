// Verification and re-examination, the two replays of a store's witness log: what each does
// with the verdicts of an author's intentions, and what each says of a log entry that cannot
// be read back.
#include <leveldb/db.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lattice/common/hex.h"
#include "lattice/v1/intention.pb.h"
#include "storage/keys.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using Kind = IngestOutcome::Kind;

class StoreReplayTest : public StoreTest {
 protected:
  // The hashes of the witnessed intentions, in witness order.
  std::vector<std::string> WitnessedHashes() {
    std::vector<std::string> hashes;
    EXPECT_TRUE(store_->ReadLog(0, 1000, [&](uint64_t, const DecodedIntention& intention, bool) {
      hashes.push_back(intention.hash);
      return true;
    }).ok());
    return hashes;
  }

  // Closes the store, lets `edit` change its database directly, and opens it again.
  void EditClosedStore(const std::function<void(leveldb::DB& db)>& edit) {
    store_.reset();
    {
      leveldb::DB* raw = nullptr;
      ASSERT_TRUE(leveldb::DB::Open(leveldb::Options(), dir_.path() + "/store", &raw).ok());
      std::unique_ptr<leveldb::DB> db(raw);
      edit(*db);
    }
    OpenStore();
  }

  std::string VerifyProblems() {
    VerifyReport report = store_->Verify(dir_.path() + "/verify");
    std::string all;
    for (const auto& problem : report.problems) all += problem + "\n";
    return report.ok ? "" : (all.empty() ? "not ok" : all);
  }
};

TEST_F(StoreReplayTest, ReexamineVoidsTheWritesAfterACutAndARestoredRightBringsThemBack) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  ASSERT_EQ(IngestOne(other.NextKv("before", "1")).kind, Kind::kApplied);
  ASSERT_EQ(IngestOne(other.NextKv("after", "2")).kind, Kind::kApplied);
  ASSERT_TRUE(store_->WriteKv({{"own", "3"}}).ok());

  AuthorRights revoked(true);
  revoked.void_ranges = {SeqRange{1, SeqRange::kOpen}};
  auto changed = store_->Reexamine(other.id(), revoked);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 1u);
  EXPECT_EQ(Get("before"), "1");
  EXPECT_EQ(Get("after"), "<absent>");
  EXPECT_EQ(Get("own"), "3");
  EXPECT_EQ(store_->noop_count(), 1u);
  EXPECT_EQ(VerifyProblems(), "");

  // The same rights again change nothing.
  changed = store_->Reexamine(other.id(), revoked);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 0u);

  changed = store_->Reexamine(other.id(), AuthorRights(true));
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 1u);
  EXPECT_EQ(Get("after"), "2");
  EXPECT_EQ(store_->noop_count(), 0u);
  EXPECT_EQ(VerifyProblems(), "");
}

TEST_F(StoreReplayTest, BothReplaysNameAWitnessedIntentionThatIsMissing) {
  ASSERT_TRUE(store_->WriteKv({{"a", "1"}}).ok());
  ASSERT_TRUE(store_->WriteKv({{"b", "2"}}).ok());
  std::vector<std::string> hashes = WitnessedHashes();
  ASSERT_EQ(hashes.size(), 2u);
  EditClosedStore([&](leveldb::DB& db) {
    ASSERT_TRUE(db.Delete(leveldb::WriteOptions(), keys::Intention(hashes[1])).ok());
  });

  std::string problems = VerifyProblems();
  EXPECT_NE(problems.find("witness 2 names a missing intention " + ToHex(hashes[1])),
            std::string::npos)
      << problems;

  // Voiding this node's first write rebuilds the state, which stops at the missing entry.
  AuthorRights revoked(true);
  revoked.void_ranges = {SeqRange{0, SeqRange::kOpen}};
  auto changed = store_->Reexamine(self_.public_key, revoked);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(changed.status().message().find("names a missing intention " + ToHex(hashes[1])),
            std::string::npos)
      << changed.status();
  EXPECT_EQ(Get("a"), "1");  // the failed rebuild left the state as it was
}

TEST_F(StoreReplayTest, VerifyChecksSignaturesAgainAndReexamineTrustsThem) {
  ASSERT_TRUE(store_->WriteKv({{"a", "1"}}).ok());
  std::vector<std::string> hashes = WitnessedHashes();
  ASSERT_EQ(hashes.size(), 1u);
  EditClosedStore([&](leveldb::DB& db) {
    std::string stored;
    ASSERT_TRUE(db.Get(leveldb::ReadOptions(), keys::Intention(hashes[0]), &stored).ok());
    v1::StoredIntention record;
    ASSERT_TRUE(record.ParseFromString(stored));
    std::string* signature = record.mutable_intention()->mutable_signature();
    ASSERT_FALSE(signature->empty());
    (*signature)[0] = static_cast<char>((*signature)[0] ^ 1);
    ASSERT_TRUE(
        db.Put(leveldb::WriteOptions(), keys::Intention(hashes[0]), record.SerializeAsString())
            .ok());
  });

  std::string problems = VerifyProblems();
  EXPECT_NE(problems.find("intention " + ToHex(hashes[0]) + ": "), std::string::npos) << problems;

  AuthorRights revoked(true);
  revoked.void_ranges = {SeqRange{0, SeqRange::kOpen}};
  auto changed = store_->Reexamine(self_.public_key, revoked);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 1u);
  EXPECT_EQ(Get("a"), "<absent>");
}

}  // namespace
}  // namespace lattice::kernel::testing
