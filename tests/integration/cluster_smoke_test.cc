// The multi-node harness against real kernels (tests/harness/cluster.h): three kernels on
// their own loopback IPs, each behind its relay, serve, answer `status --json`, and the relay
// reaches each one's peer transport. Replication itself is tested elsewhere.
#include <gtest/gtest.h>

#include <set>

#include "harness/cluster.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

constexpr size_t kNodes = 3;

class ClusterSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.nodes = kNodes;
    auto cluster = Cluster::Create(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    // A kernel that does not start fails the test.
    absl::Status started = cluster_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
  }

  // Dials node `to` through its relay from node `from`'s IP, as `from`'s kernel would, and
  // checks the hello that `to`'s transport sends first: "LATP", version 1, listener role.
  void ExpectRelayReachesTransport(size_t from, size_t to) {
    auto dialer = ConnectFrom(cluster_->listen_address(from).host, cluster_->advertised_address(to));
    ASSERT_TRUE(dialer.ok()) << dialer.status();
    auto hello = ReadExactly(dialer->get(), kernel::net::kHelloBytes, 10s);
    ASSERT_TRUE(hello.ok()) << "node " << to << ": " << hello.status();
    EXPECT_EQ(hello->substr(0, 4), kernel::net::kHelloMagic);
    EXPECT_EQ(static_cast<uint8_t>((*hello)[4]), kernel::net::kHandshakeVersion);
    EXPECT_EQ(static_cast<uint8_t>((*hello)[5]), static_cast<uint8_t>(kernel::net::Role::kListener));
    EXPECT_EQ(cluster_->relay().Connections(static_cast<int>(from), static_cast<int>(to)), 1u);
  }

  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ClusterSmoke, EveryNodeServesAndReportsItsOwnIdentityAndAddress) {
  std::set<std::string> ids;
  for (size_t i = 0; i < kNodes; ++i) {
    auto id = cluster_->NodeId(i);
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->size(), 64u) << *id;
    ids.insert(*id);

    auto client = cluster_->Client(i);
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_EQ((*client)->session().node().node_id(), *id);

    auto status = cluster_->CtlJson(i, {"status"});
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ((*status)["node"]["name"], "node" + std::to_string(i));
    ASSERT_TRUE(status->contains("listen_addresses")) << status->dump();
    std::string listen = FormatHostPort(cluster_->listen_address(i));
    bool listed = false;
    for (const auto& address : (*status)["listen_addresses"]) listed |= address == listen;
    EXPECT_TRUE(listed) << "node " << i << " listens on " << listen << "; status: " << status->dump();
  }
  EXPECT_EQ(ids.size(), kNodes);
}

TEST_F(ClusterSmoke, EachRelayReachesItsNodesPeerTransport) {
  for (size_t to = 0; to < kNodes; ++to) ExpectRelayReachesTransport((to + 1) % kNodes, to);
}

TEST_F(ClusterSmoke, StoppedKilledAndRestartedNodesComeBackOnTheirAddress) {
  auto id = cluster_->NodeId(1);
  ASSERT_TRUE(id.ok()) << id.status();

  cluster_->Kill(1);
  EXPECT_FALSE(cluster_->running(1));
  ASSERT_TRUE(cluster_->Restart(1).ok());
  ASSERT_TRUE(cluster_->Restart(1).ok());  // a clean stop this time, then a start
  EXPECT_EQ(cluster_->NodeId(1).value_or(""), *id);
  ExpectRelayReachesTransport(2, 1);

  EXPECT_EQ(cluster_->Stop(2), 0);
  EXPECT_FALSE(cluster_->running(2));
  EXPECT_TRUE(cluster_->NodeId(0).ok());  // the others keep serving
}

}  // namespace
}  // namespace lattice::testing
