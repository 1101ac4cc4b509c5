// Why write-ahead logs are sealed: LevelDB closes a log it switches away from without a
// sync, so unsynced writes in it could be lost while a later synced write survives.
#include "storage/sealed_log_env.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>

#include <memory>
#include <string>

#include "harness/fault_injection_env.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using lattice::testing::FaultInjectionEnv;

constexpr int kAppliedWrites = 100;

struct Survivors {
  int applied = 0;
  bool synced = false;
};

// Writes enough unsynced values to switch the memtable (and so the log), then one synced
// write, and cuts the power before the sealed memtable is written out as a table; then
// counts what a reopen finds.
Survivors SwitchLogThenSyncThenCut(leveldb::Env* env, FaultInjectionEnv& fault,
                                   const std::string& dir) {
  leveldb::Options options;
  options.create_if_missing = true;
  options.env = env;
  options.write_buffer_size = 64 << 10;  // LevelDB's smallest
  leveldb::DB* raw = nullptr;
  EXPECT_TRUE(leveldb::DB::Open(options, dir, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  fault.HoldBackgroundWork();
  const std::string value(1024, 'v');
  for (int i = 0; i < kAppliedWrites; ++i) {
    EXPECT_TRUE(db->Put(leveldb::WriteOptions(), "applied/" + std::to_string(i), value).ok());
  }
  leveldb::WriteOptions sync;
  sync.sync = true;
  EXPECT_TRUE(db->Put(sync, "synced", "s").ok());
  fault.CutPower();
  db.reset();
  EXPECT_TRUE(fault.RestorePower().ok());

  EXPECT_TRUE(leveldb::DB::Open(options, dir, &raw).ok());
  db.reset(raw);
  Survivors survivors;
  std::string got;
  for (int i = 0; i < kAppliedWrites; ++i) {
    if (db->Get(leveldb::ReadOptions(), "applied/" + std::to_string(i), &got).ok()) {
      ++survivors.applied;
    }
  }
  survivors.synced = db->Get(leveldb::ReadOptions(), "synced", &got).ok();
  return survivors;
}

// The hazard itself, so the test below can fail: on the bare file system the first log is
// never synced and the writes in it are gone, though a later synced write survives.
TEST(SealedLogTest, WithoutSealingEarlierUnsyncedWritesAreLostWhileALaterSyncedOneSurvives) {
  TempDir dir;
  FaultInjectionEnv fault;
  Survivors survivors = SwitchLogThenSyncThenCut(&fault, fault, dir.path() + "/db");
  EXPECT_TRUE(survivors.synced);
  EXPECT_LT(survivors.applied, kAppliedWrites);
}

TEST(SealedLogTest, ASealedLogKeepsEarlierUnsyncedWritesOnceALaterOneIsSynced) {
  TempDir dir;
  FaultInjectionEnv fault;
  SealedLogEnv sealed(&fault);
  Survivors survivors = SwitchLogThenSyncThenCut(&sealed, fault, dir.path() + "/db");
  EXPECT_TRUE(survivors.synced);
  EXPECT_EQ(survivors.applied, kAppliedWrites);
}

TEST(SealedLogTest, OnlyWriteAheadLogsAreSealed) {
  EXPECT_TRUE(IsWriteAheadLog("/data/stores/x/000012.log"));
  EXPECT_FALSE(IsWriteAheadLog("/data/stores/x/LOG"));
  EXPECT_FALSE(IsWriteAheadLog("/data/stores/x/MANIFEST-000002"));
  EXPECT_FALSE(IsWriteAheadLog("/data/stores/x/000013.ldb"));
  EXPECT_FALSE(IsWriteAheadLog("/data/stores/x/a1.log"));
}

}  // namespace
}  // namespace lattice::kernel::testing
