// The fault-injecting relay of the multi-node harness, on plain loopback sockets: the test
// plays every node, listening as node n on 127.B.C.(10+n) and dialing from that IP.
#include "harness/tcp_relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <thread>
#include <utility>
#include <vector>

#include "harness/process.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kNodes = 3;
constexpr auto kIoTimeout = 10s;

// `size` bytes of a pattern that depends on the offset, so a lost or moved byte shows.
std::string Pattern(size_t size, uint32_t seed = 0) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + seed * 17 + i / 251) & 0xff);
  return out;
}

// A frame of the peer link: u32 big-endian length, then the body.
std::string Frame(const std::string& body) {
  uint32_t n = static_cast<uint32_t>(body.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + body;
}

// Writes `bytes` in pieces of `piece` bytes, so frames and the preamble straddle reads.
void WriteInPieces(int fd, const std::string& bytes, size_t piece) {
  for (size_t at = 0; at < bytes.size(); at += piece) {
    ASSERT_TRUE(WriteAll(fd, std::string_view(bytes).substr(at, piece)).ok());
  }
}

// Both ends of a connection through the relay: what the dialer holds, and what the node it
// dialed accepted.
struct Link {
  UniqueFd dialer;
  UniqueFd listener;
};

class TcpRelayTest : public ::testing::Test {
 protected:
  void SetUp() override { StartRelay({}); }

  void StartRelay(TcpRelayOptions options) {
    relay_.reset();
    listeners_.clear();
    relay_addresses_.clear();
    auto relay = TcpRelay::Create(options);
    ASSERT_TRUE(relay.ok()) << relay.status();
    relay_ = *std::move(relay);
    for (int n = 0; n < kNodes; ++n) {
      auto listener = ListenLoopback({NodeIp(n), 0});
      ASSERT_TRUE(listener.ok()) << listener.status();
      auto address = LocalAddress(listener->get());
      ASSERT_TRUE(address.ok());
      auto relayed = relay_->AddNode(n, NodeIp(n), {RelayIp(n), 0}, *address);
      ASSERT_TRUE(relayed.ok()) << relayed.status();
      listeners_.push_back(*std::move(listener));
      relay_addresses_.push_back(*relayed);
    }
  }

  std::string NodeIp(int n) const { return prefix_ + "." + std::to_string(10 + n); }
  std::string RelayIp(int n) const { return prefix_ + "." + std::to_string(110 + n); }

  // `from` dials `to` through the relay; `to` accepts.
  Link Connect(int from, int to) { return ConnectFromIp(NodeIp(from), to); }

  Link ConnectFromIp(const std::string& source_ip, int to) {
    Link link;
    auto dialer = ConnectFrom(source_ip, relay_addresses_[static_cast<size_t>(to)]);
    EXPECT_TRUE(dialer.ok()) << dialer.status();
    if (!dialer.ok()) return link;
    link.dialer = *std::move(dialer);
    auto accepted = AcceptWithin(listeners_[static_cast<size_t>(to)].get(), kIoTimeout);
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    if (accepted.ok()) link.listener = *std::move(accepted);
    return link;
  }

  // Sends `bytes` one way and checks they arrive intact.
  static void ExpectCarries(int from_fd, int to_fd, const std::string& bytes) {
    ASSERT_TRUE(WriteAll(from_fd, bytes).ok());
    auto got = ReadExactly(to_fd, bytes.size(), kIoTimeout);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, bytes);
  }

  // Whether a connection arrives at node `to` within a short grace (for "none arrives").
  bool AcceptsWithinGrace(int to) {
    return AcceptWithin(listeners_[static_cast<size_t>(to)].get(), 300ms).ok();
  }

  std::string prefix_ = NewLoopbackPrefix();
  std::unique_ptr<TcpRelay> relay_;
  std::vector<UniqueFd> listeners_;       // node n's own listening socket
  std::vector<HostPort> relay_addresses_;  // what node n advertises
};

TEST_F(TcpRelayTest, ForwardsBothWays) {
  Link link = Connect(0, 1);
  ExpectCarries(link.dialer.get(), link.listener.get(), "hello from node 0");
  ExpectCarries(link.listener.get(), link.dialer.get(), "and back from node 1");
}

TEST_F(TcpRelayTest, IdentifiesTheDialerBySourceIp) {
  Link from2 = Connect(2, 1);
  ExpectCarries(from2.dialer.get(), from2.listener.get(), std::string(10, 'x'));
  ExpectCarries(from2.listener.get(), from2.dialer.get(), std::string(4, 'y'));
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(2, 1) == 10; }, kIoTimeout));
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(1, 2) == 4; }, kIoTimeout));
  EXPECT_EQ(relay_->BytesSent(0, 1), 0u);
  EXPECT_EQ(relay_->Connections(2, 1), 1u);
  EXPECT_EQ(relay_->Connections(1, 2), 1u);  // a pair's connections, whoever dialed
  EXPECT_EQ(relay_->Connections(0, 1), 0u);
  // Node 1 sees the connection coming from node 2's own IP, as without the relay.
  sockaddr_in peer{};
  socklen_t length = sizeof peer;
  ASSERT_EQ(::getpeername(from2.listener.get(), reinterpret_cast<sockaddr*>(&peer), &length), 0);
  char peer_ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, peer_ip, sizeof peer_ip);
  EXPECT_EQ(std::string(peer_ip), NodeIp(2));

  // An address that is no node's is forwarded, under kUnknownNode.
  Link stranger = ConnectFromIp(prefix_ + ".99", 1);
  ExpectCarries(stranger.dialer.get(), stranger.listener.get(), "abc");
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(TcpRelay::kUnknownNode, 1) == 3; }, kIoTimeout));
  EXPECT_EQ(relay_->BytesSent(2, 1), 10u);
}

TEST_F(TcpRelayTest, CutResetsLiveConnectionsBothWaysAndRefusesNewOnes) {
  Link zero_to_one = Connect(0, 1);
  Link one_to_zero = Connect(1, 0);
  Link zero_to_two = Connect(0, 2);
  ASSERT_TRUE(WaitFor([&] { return relay_->Connections(0, 1) == 2; }, kIoTimeout));

  relay_->Cut(0, 1);
  EXPECT_EQ(relay_->Connections(0, 1), 0u);
  for (Link* link : {&zero_to_one, &one_to_zero}) {
    EXPECT_TRUE(WaitForClose(link->dialer.get(), kIoTimeout));
    EXPECT_TRUE(WaitForClose(link->listener.get(), kIoTimeout));
  }
  ExpectCarries(zero_to_two.dialer.get(), zero_to_two.listener.get(), "still linked");

  // New connections of the pair, either way, are reset before reaching the node.
  for (auto [from, to] : {std::pair{0, 1}, std::pair{1, 0}}) {
    auto dialer = ConnectFrom(NodeIp(from), relay_addresses_[static_cast<size_t>(to)]);
    ASSERT_TRUE(dialer.ok()) << dialer.status();
    EXPECT_TRUE(WaitForClose(dialer->get(), kIoTimeout));
    EXPECT_FALSE(AcceptsWithinGrace(to));
  }
  EXPECT_EQ(relay_->Connections(0, 1), 0u);
}

TEST_F(TcpRelayTest, HealLetsThePairConnectAgain) {
  relay_->Cut(0, 1);
  relay_->Heal(1, 0);  // either order names the pair
  Link link = Connect(0, 1);
  ExpectCarries(link.dialer.get(), link.listener.get(), "healed");
  ExpectCarries(link.listener.get(), link.dialer.get(), "healed too");
  EXPECT_EQ(relay_->Connections(0, 1), 1u);
}

TEST_F(TcpRelayTest, DropNextFramesDropsExactlyThatManyWholeFrames) {
  Link link = Connect(0, 1);
  relay_->DropNextFrames(0, 1, 2);

  std::string preamble = Pattern(kLinkPreambleBytes, 1);
  std::vector<std::string> frames{Frame(""), Frame("a"), Frame(Pattern(70'000, 2)),
                                  Frame(Pattern(300, 3)), Frame("tail")};
  std::string sent = preamble;
  for (const auto& frame : frames) sent += frame;
  // Pieces of 7 bytes: the preamble and every length prefix straddle writes.
  WriteInPieces(link.dialer.get(), sent.substr(0, 2000), 7);
  WriteInPieces(link.dialer.get(), sent.substr(2000), 4096);

  std::string expected = preamble + frames[2] + frames[3] + frames[4];
  auto got = ReadExactly(link.listener.get(), expected.size(), kIoTimeout);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, expected);
  EXPECT_EQ(relay_->FramesDropped(0, 1), 2u);

  // The other direction keeps every frame.
  std::string back = Pattern(kLinkPreambleBytes, 4) + Frame("x") + Frame("y");
  ExpectCarries(link.listener.get(), link.dialer.get(), back);
  EXPECT_EQ(relay_->FramesDropped(1, 0), 0u);

  // Mid-stream: only the next frame goes.
  relay_->DropNextFrames(0, 1, 1);
  ASSERT_TRUE(WriteAll(link.dialer.get(), Frame("lost") + Frame("kept")).ok());
  got = ReadExactly(link.listener.get(), Frame("kept").size(), kIoTimeout);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Frame("kept"));
  EXPECT_EQ(relay_->FramesDropped(0, 1), 3u);
  EXPECT_EQ(relay_->BytesSent(0, 1), expected.size() + Frame("kept").size());
}

TEST_F(TcpRelayTest, DelayHoldsBytesBackAndKeepsTheirOrder) {
  Link link = Connect(0, 1);
  constexpr auto kDelay = 300ms;
  relay_->SetDelay(0, 1, kDelay);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WriteAll(link.dialer.get(), "a").ok());
  relay_->SetDelay(0, 1, 0ms);
  ASSERT_TRUE(WriteAll(link.dialer.get(), "b").ok());  // undelayed, but must not overtake "a"

  auto got = ReadExactly(link.listener.get(), 2, kIoTimeout);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_GE(std::chrono::steady_clock::now() - start, kDelay);
  EXPECT_EQ(*got, "ab");
}

TEST_F(TcpRelayTest, CountsBytesPerDirectionOverEveryConnectionOfThePair) {
  Link first = Connect(0, 1);
  ExpectCarries(first.dialer.get(), first.listener.get(), Pattern(1000));
  ExpectCarries(first.listener.get(), first.dialer.get(), Pattern(300));
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(0, 1) == 1000; }, kIoTimeout));
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(1, 0) == 300; }, kIoTimeout));

  relay_->ResetCounters();
  EXPECT_EQ(relay_->BytesSent(0, 1), 0u);
  EXPECT_EQ(relay_->BytesSent(1, 0), 0u);

  Link second = Connect(1, 0);  // the same pair, dialed the other way
  ExpectCarries(second.dialer.get(), second.listener.get(), Pattern(50));
  ExpectCarries(first.listener.get(), first.dialer.get(), Pattern(7));
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(1, 0) == 57; }, kIoTimeout));
  EXPECT_EQ(relay_->BytesSent(0, 1), 0u);
}

TEST_F(TcpRelayTest, CarriesManyConnectionsAtOnce) {
  constexpr int kLinks = 60;
  std::vector<Link> links;
  for (int k = 0; k < kLinks; ++k) links.push_back(Connect(k % kNodes, (k + 1) % kNodes));
  EXPECT_EQ(relay_->Connections(0, 1) + relay_->Connections(1, 2) + relay_->Connections(2, 0),
            static_cast<size_t>(kLinks));
  for (int k = 0; k < kLinks; ++k) {
    ASSERT_TRUE(WriteAll(links[k].dialer.get(), Pattern(5000, k)).ok());
    ASSERT_TRUE(WriteAll(links[k].listener.get(), Pattern(3000, k + 1000)).ok());
  }
  for (int k = 0; k < kLinks; ++k) {
    auto up = ReadExactly(links[k].listener.get(), 5000, kIoTimeout);
    auto down = ReadExactly(links[k].dialer.get(), 3000, kIoTimeout);
    ASSERT_TRUE(up.ok() && down.ok()) << k;
    EXPECT_EQ(*up, Pattern(5000, k)) << k;
    EXPECT_EQ(*down, Pattern(3000, k + 1000)) << k;
  }
}

TEST_F(TcpRelayTest, BoundedBuffersPushBackOnTheSenderAndLoseNothing) {
  TcpRelayOptions options;
  options.max_buffered_bytes = 16 * 1024;
  StartRelay(options);
  Link link = Connect(0, 1);

  // Node 1 reads nothing: node 0 must soon be unable to write, whatever it tries. The
  // sockets' own buffers hold a few MiB; an unbounded relay would take all 64.
  constexpr size_t kLimit = 64u << 20;
  const std::string period = Pattern(64 * 1024);  // the stream repeats it
  size_t sent = 0;
  while (sent < kLimit) {
    size_t at = sent % period.size();
    ssize_t n = ::send(link.dialer.get(), period.data() + at, period.size() - at,
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    ASSERT_EQ(errno, EAGAIN);
    pollfd p{link.dialer.get(), POLLOUT, 0};
    if (::poll(&p, 1, 500) == 0) break;  // still full half a second later: the relay stopped reading
  }
  EXPECT_LT(sent, kLimit);

  // Node 1 reads it all, in order.
  size_t received = 0;
  while (received < sent) {
    size_t at = received % period.size();
    auto got = ReadExactly(link.listener.get(), std::min(sent - received, period.size() - at),
                           kIoTimeout);
    ASSERT_TRUE(got.ok()) << got.status() << " after " << received << " of " << sent;
    ASSERT_TRUE(*got == period.substr(at, got->size())) << "at byte " << received;
    received += got->size();
  }
  EXPECT_TRUE(WaitFor([&] { return relay_->BytesSent(0, 1) == sent; }, kIoTimeout));
}

TEST_F(TcpRelayTest, ForwardsMegabytesIntactBothWaysAtOnce) {
  TcpRelayOptions options;
  options.max_buffered_bytes = 4096;
  StartRelay(options);
  Link link = Connect(0, 1);
  std::string up = Pattern(3 << 20, 5), down = Pattern(2 << 20, 6);
  std::thread up_writer([&] { EXPECT_TRUE(WriteAll(link.dialer.get(), up).ok()); });
  std::thread down_writer([&] { EXPECT_TRUE(WriteAll(link.listener.get(), down).ok()); });
  absl::StatusOr<std::string> got_down;
  std::thread down_reader([&] { got_down = ReadExactly(link.dialer.get(), down.size(), kIoTimeout); });
  auto got_up = ReadExactly(link.listener.get(), up.size(), kIoTimeout);
  up_writer.join();
  down_writer.join();
  down_reader.join();
  ASSERT_TRUE(got_up.ok()) << got_up.status();
  ASSERT_TRUE(got_down.ok()) << got_down.status();
  EXPECT_TRUE(*got_up == up);
  EXPECT_TRUE(*got_down == down);
}

TEST_F(TcpRelayTest, EndOfStreamPassesThroughEachWay) {
  Link link = Connect(0, 1);
  ASSERT_EQ(::shutdown(link.dialer.get(), SHUT_WR), 0);
  EXPECT_TRUE(WaitForClose(link.listener.get(), kIoTimeout));  // node 1 reads the end
  ExpectCarries(link.listener.get(), link.dialer.get(), "the other way still works");
  link.listener = UniqueFd();
  EXPECT_TRUE(WaitForClose(link.dialer.get(), kIoTimeout));
  EXPECT_TRUE(WaitFor([&] { return relay_->Connections(0, 1) == 0; }, kIoTimeout));
}

TEST_F(TcpRelayTest, ResetsTheDialerWhenTheNodeIsDownAndFollowsSetTarget) {
  auto unused = FreePort(NodeIp(1));
  ASSERT_TRUE(unused.ok());
  ASSERT_TRUE(relay_->SetTarget(1, {NodeIp(1), *unused}).ok());
  auto dialer = ConnectFrom(NodeIp(0), relay_addresses_[1]);
  ASSERT_TRUE(dialer.ok()) << dialer.status();
  EXPECT_TRUE(WaitForClose(dialer->get(), kIoTimeout));
  EXPECT_TRUE(WaitFor([&] { return relay_->Connections(0, 1) == 0; }, kIoTimeout));

  // Node 1 "restarted" on another port.
  auto restarted = ListenLoopback({NodeIp(1), 0});
  ASSERT_TRUE(restarted.ok());
  auto address = LocalAddress(restarted->get());
  ASSERT_TRUE(address.ok());
  ASSERT_TRUE(relay_->SetTarget(1, *address).ok());
  listeners_[1] = *std::move(restarted);
  Link link = Connect(0, 1);
  ExpectCarries(link.dialer.get(), link.listener.get(), "found you");
  EXPECT_EQ(relay_->SetTarget(7, *address).code(), absl::StatusCode::kNotFound);
}

TEST_F(TcpRelayTest, DestructionClosesEveryConnection) {
  Link a = Connect(0, 1);
  Link b = Connect(2, 0);
  ExpectCarries(a.dialer.get(), a.listener.get(), "x");
  relay_.reset();
  for (Link* link : {&a, &b}) {
    EXPECT_TRUE(WaitForClose(link->dialer.get(), kIoTimeout));
    EXPECT_TRUE(WaitForClose(link->listener.get(), kIoTimeout));
  }
  auto late = ConnectFrom(NodeIp(0), relay_addresses_[1]);
  EXPECT_FALSE(late.ok());  // nothing listens any more
}

TEST_F(TcpRelayTest, TakesOnlyLoopbackAddressesAndOneRelayPerNode) {
  HostPort target = relay_addresses_[0];
  EXPECT_EQ(relay_->AddNode(5, "10.0.0.1", {prefix_ + ".115", 0}, target).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(relay_->AddNode(5, prefix_ + ".15", {"0.0.0.0", 0}, target).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(relay_->AddNode(5, prefix_ + ".15", {prefix_ + ".115", 0}, {"example.com", 1})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(relay_->AddNode(0, prefix_ + ".15", {prefix_ + ".115", 0}, target).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(relay_->AddNode(5, NodeIp(1), {prefix_ + ".115", 0}, target).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(relay_->AddNode(5, prefix_ + ".15", {prefix_ + ".115", 0}, target).ok());
}

}  // namespace
}  // namespace lattice::testing
