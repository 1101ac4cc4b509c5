// A bootstrap saves its progress without a sync (replication/bootstrapper.cc): the claim is
// that losing that record to a power cut costs only chunks asked for again. A joiner on a
// file system that loses power in the middle of its bootstrap, at a different point each
// round, comes back with every intention of the store and a state that verifies.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "harness/fault_injection_env.h"
#include "lattice/common/ids.h"
#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using lattice::testing::FaultInjectionEnv;
using namespace std::chrono_literals;

constexpr int kIntentions = 2600;  // about five bootstrap chunks

class BootstrapPowerCutTest : public MeshTest {
 protected:
  void SetUp() override {
    UseQuickTimings();
  }

  // What the joiner's bootstrap of `store` has received, or -1 before it starts; `done`
  // tells whether it is over.
  static int64_t Received(MeshNode& n, const std::string& store, bool* done) {
    for (const auto& record : n.replicator->Bootstraps()) {
      if (FormatStoreId(record.store_id()) != store) continue;
      *done = record.done();
      return static_cast<int64_t>(record.received());
    }
    *done = false;
    return -1;
  }

  // The joiner's file system; outlives the nodes, which TearDown closes.
  FaultInjectionEnv fault;
};

TEST_F(BootstrapPowerCutTest, AJoinerCutInTheMiddleOfItsBootstrapStillGetsEverything) {
  AddNode("n0");
  auto made = nodes_[0]->node->CreateStore("notes", StoreType::kKv, nodes_[0]->node->own_mesh_id());
  ASSERT_TRUE(made.ok()) << made.status();
  const std::string store = FormatStoreId(made->id);
  Store* source = StoreOf(*nodes_[0], store);
  ASSERT_NE(source, nullptr);
  for (int i = 0; i < kIntentions; ++i) {
    // Unsynced but for the last: a bootstrap needs many intentions, not many fsyncs.
    Durability durability = i + 1 == kIntentions ? Durability::kSynced : Durability::kApplied;
    auto written = source->WriteKv({KvWrite("k" + std::to_string(i), "v")}, durability);
    ASSERT_TRUE(written.ok()) << written.status();
  }

  auto joiner = std::make_unique<MeshNode>();
  joiner->name = "late";
  joiner->env = &fault;
  nodes_.push_back(std::move(joiner));
  MeshNode& late = *nodes_.back();
  StartNode(late);
  ASSERT_NO_FATAL_FAILURE(Join(*nodes_[0], late));

  // Each round cuts the power once the bootstrap has gone a little further than the last.
  // After a cut the joiner may find its progress record (or the store) gone: it then either
  // starts the bootstrap again or, holding some of the store's intentions, leaves the rest
  // to reconciliation, and the rounds end.
  int cuts_mid_bootstrap = 0;
  int64_t cut_at_least = 1;
  for (int round = 0; round < 3; ++round) {
    bool done = false;
    int64_t received = -1;
    auto deadline = std::chrono::steady_clock::now() + (round == 0 ? 60s : 10s);
    while (std::chrono::steady_clock::now() < deadline) {
      received = Received(late, store, &done);
      if (done || received >= cut_at_least) break;
      std::this_thread::sleep_for(1ms);
    }
    if (!done && received < cut_at_least) {
      ASSERT_GT(round, 0) << "the bootstrap made no progress; received " << received;
      break;  // no bootstrap runs any more: reconciliation brings the rest
    }
    fault.CutPower();
    if (!done) ++cuts_mid_bootstrap;
    StopNode(late);
    auto dropped = fault.RestorePower();
    ASSERT_TRUE(dropped.ok()) << dropped.status();
    StartNode(late);
    if (done) break;
    // What the restart finds of the record is at most what was there at the cut.
    bool done_after = false;
    int64_t kept = Received(late, store, &done_after);
    EXPECT_LE(kept, received) << "round " << round;
    cut_at_least = std::max<int64_t>(kept, 0) + 1;
  }
  EXPECT_GT(cuts_mid_bootstrap, 0) << "every cut came after the bootstrap was over";

  std::vector<MeshNode*> both = {nodes_[0].get(), &late};
  ASSERT_TRUE(WaitConverged(both, store, 60s)) << Describe(both, store);
  EXPECT_EQ(Get(late, store, "k0"), "v");
  EXPECT_EQ(Get(late, store, "k" + std::to_string(kIntentions - 1)), "v");
  Store* copy = StoreOf(late, store);
  ASSERT_NE(copy, nullptr);
  VerifyReport report = copy->Verify(late.dir.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
  EXPECT_EQ(report.intentions, source->Verify(nodes_[0]->dir.path() + "/verify").intentions);
}

}  // namespace
}  // namespace lattice::kernel::testing
