// The in-memory network's fault injection, as multi-node kernel tests use it: lost
// payloads, delays, cuts and heals, byte counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lattice/common/crypto.h"
#include "net/memory_transport.h"
#include "net_test_util.h"

namespace lattice::kernel::net {
namespace {

using namespace testing;
using ::testing::HasSubstr;

struct MemoryNode {
  KeyPair key = GenerateKeyPair();
  AcceptLog accepted;  // before the transport: it outlives the listener's callbacks
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Listener> listener;
};

class MemoryNetworkTest : public ::testing::Test {
 protected:
  std::unique_ptr<MemoryNode> MakeNode(const std::string& name) {
    auto node = std::make_unique<MemoryNode>();
    TransportConfig config;
    config.identity = &node->key;
    config.admit = [](const std::string&, const std::optional<InviteProof>&) {
      return absl::OkStatus();
    };
    config.limits.close_flush_timeout = 500ms;
    node->transport = network_->CreateTransport(name, std::move(config));
    auto listener = node->transport->Listen(name, node->accepted.handlers());
    EXPECT_TRUE(listener.ok()) << listener.status();
    node->listener = *std::move(listener);
    return node;
  }

  absl::StatusOr<std::shared_ptr<Link>> Dial(MemoryNode& from, MemoryNode& to) {
    DialRequest request;
    request.address = to.listener->address();
    request.expected_node_id = to.key.public_key;
    return from.transport->Dial(request);
  }

  std::shared_ptr<InMemoryNetwork> network_ = InMemoryNetwork::Create();
};

TEST_F(MemoryNetworkTest, DroppedPayloadsAreLostButTheLinkStaysUp) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  LinkProbe at_b;
  accepted->Start(at_a.handler());
  (*dialed)->Start(at_b.handler());
  network_->DropNextPayloads("b", "a", 2);
  for (const char* p : {"p1", "p2", "p3", "p4"}) ASSERT_TRUE((*dialed)->Send(p).ok());
  ASSERT_TRUE(accepted->Send("back").ok());  // the other direction is untouched
  ASSERT_TRUE(at_a.WaitForPayloads(2, 5s));
  ASSERT_TRUE(at_b.WaitForPayloads(1, 5s));
  EXPECT_EQ(at_a.payloads(), (std::vector<std::string>{"p3", "p4"}));
  EXPECT_EQ((*dialed)->stats().frames_dropped, 2u);
  EXPECT_TRUE(accepted->open());
}

TEST_F(MemoryNetworkTest, ACutBreaksLinksAndRefusesDialsUntilHealed) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  auto c = MakeNode("c");
  auto ab = Dial(*b, *a);
  ASSERT_TRUE(ab.ok());
  auto ac = Dial(*c, *a);
  ASSERT_TRUE(ac.ok());
  LinkProbe at_b;
  LinkProbe at_c;
  (*ab)->Start(at_b.handler());
  (*ac)->Start(at_c.handler());
  network_->Cut("a", "b");
  ASSERT_TRUE(at_b.WaitForClose(5s));
  EXPECT_EQ(at_b.close_reason().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(at_b.close_reason().message()), HasSubstr("cut"));
  auto refused = Dial(*b, *a);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("cut"));
  // c's link is not affected.
  ASSERT_TRUE((*ac)->Send("still here").ok());
  auto a_side_of_c = a->accepted.NextLink(5s);  // b's link, accepted before the cut
  ASSERT_NE(a_side_of_c, nullptr);
  EXPECT_TRUE((*ac)->open());
  network_->Heal("a", "b");
  EXPECT_TRUE(Dial(*b, *a).ok());
}

TEST_F(MemoryNetworkTest, ADelayHoldsBytesBackAndKeepsOrder) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok());
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  accepted->Start(at_a.handler());
  network_->SetDelay("b", "a", 300ms);
  auto sent_at = Clock::now();
  ASSERT_TRUE((*dialed)->Send("late 1").ok());
  ASSERT_TRUE((*dialed)->Send("late 2").ok());
  ASSERT_TRUE(at_a.WaitForPayloads(2, 5s));
  EXPECT_GE(Clock::now() - sent_at, 280ms);
  EXPECT_EQ(at_a.payloads(), (std::vector<std::string>{"late 1", "late 2"}));
}

TEST_F(MemoryNetworkTest, BytesAreCountedPerDirection) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok());
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  accepted->Start(at_a.handler());
  uint64_t before = network_->BytesSent("b", "a");
  EXPECT_GT(before, 0u);  // the handshake
  ASSERT_TRUE((*dialed)->Send(std::string(100000, 'x')).ok());
  ASSERT_TRUE(at_a.WaitForPayloads(1, 5s));
  uint64_t after = network_->BytesSent("b", "a");
  EXPECT_EQ(after - before, 100000u + kFrameOverheadBytes + 4);
  // The sender counts a frame once its write returns, which may be after the peer read it.
  EXPECT_TRUE(WaitFor([&] { return (*dialed)->stats().bytes_sent == after - before; }, 5s))
      << (*dialed)->stats().bytes_sent << " counted by the link, " << after - before
      << " by the network";
  EXPECT_EQ(network_->BytesSent("a", "c"), 0u);
}

TEST_F(MemoryNetworkTest, AnAddressCanBeListenedOnOnce) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  auto again = b->transport->Listen("a", {});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace lattice::kernel::net
