// What Admin.Metrics reports of each peer's links (Replicator::Traffic): bytes within what
// the in-memory network carried, Negentropy round trips, and totals that survive a link's loss.
#include <gtest/gtest.h>

#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

class PeerTrafficTest : public MeshTest {
 protected:
  void SetUp() override {
    options_.sync_interval = 200ms;
    options_.tick = 50ms;
    options_.min_dial_backoff = 50ms;
    options_.max_dial_backoff = 300ms;
  }

  // `viewer`'s figures for `peer`; a default (zero, unconnected) when it lists none.
  replication::PeerTrafficView TrafficOf(MeshNode& viewer, MeshNode& peer) {
    for (auto& view : viewer.replicator->Traffic()) {
      if (view.node_id == peer.id()) return view;
    }
    return {};
  }
};

TEST_F(PeerTrafficTest, TotalsGrowAcrossALostLinkAndMatchTheWire) {
  MakeMesh(2);
  MeshNode& a = *nodes_[0];
  MeshNode& b = *nodes_[1];
  ASSERT_TRUE(Eventually([&] {
    auto view = TrafficOf(a, b);
    return view.totals.connected && view.totals.round_trips > 0 && view.totals.bytes_received > 0;
  })) << "a linked peer that reconciled shows traffic";
  EXPECT_EQ(TrafficOf(a, b).name, b.node->name());
  for (const auto& view : a.replicator->Traffic()) EXPECT_NE(view.node_id, a.id()) << "not itself";

  network_->Cut("n0", "n1");
  ASSERT_TRUE(Eventually([&] { return !TrafficOf(a, b).totals.connected; }));
  replication::PeerTrafficTotals before = TrafficOf(a, b).totals;
  // Links now closed carried it all; the network saw those bytes and also the handshakes
  // (before a link exists) and links that lost the race to be the pair's one.
  EXPECT_GT(before.bytes_sent, 0u);
  EXPECT_LE(before.bytes_sent, network_->BytesSent("n0", "n1"));
  EXPECT_LE(before.bytes_received, network_->BytesSent("n1", "n0"));
  EXPECT_GT(before.round_trips, 0u);

  network_->Heal("n0", "n1");
  ASSERT_TRUE(Eventually([&] {
    auto now = TrafficOf(a, b).totals;
    return now.connected && now.bytes_sent > before.bytes_sent &&
           now.round_trips > before.round_trips;
  })) << "a new link adds to the totals of the old ones";
}

}  // namespace
}  // namespace lattice::kernel::testing
