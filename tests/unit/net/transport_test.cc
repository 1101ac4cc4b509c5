// Both transports (TCP on 127.0.0.1 with ephemeral ports, and in memory) through the same
// tests: real handshakes, refusals, invites, hostile and silent peers, framing limits,
// ordering, closing, flow control and the rate limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"
#include "net/address.h"
#include "net/frame_cipher.h"
#include "net/frame_receiver.h"
#include "net/handshake_runner.h"
#include "net/memory_transport.h"
#include "net/tcp_stream.h"
#include "net/tcp_transport.h"
#include "net_test_util.h"

namespace lattice::kernel::net {
namespace {

using namespace testing;
using ::testing::HasSubstr;

enum class Kind { kTcp, kMemory };

std::string KindName(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kTcp ? "Tcp" : "InMemory";
}

LinkLimits TestLimits() {
  LinkLimits limits;
  limits.handshake_timeout = 5s;
  limits.receive_bytes_per_second = 0;  // unlimited unless a test sets it
  limits.close_flush_timeout = 500ms;
  return limits;
}

AdmitPeerFn AdmitAll() {
  return [](const std::string&, const std::optional<InviteProof>&) { return absl::OkStatus(); };
}

struct Node {
  std::string name;
  KeyPair key = GenerateKeyPair();
  AcceptLog accepted;  // before the transport: it outlives the listener's callbacks
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Listener> listener;
};

class TransportTest : public ::testing::TestWithParam<Kind> {
 protected:
  std::unique_ptr<Node> MakeNode(const std::string& name, LinkLimits limits = TestLimits(),
                                 AdmitPeerFn admit = AdmitAll()) {
    auto node = std::make_unique<Node>();
    node->name = name;
    TransportConfig config;
    config.identity = &node->key;
    config.admit = std::move(admit);
    config.limits = limits;
    if (GetParam() == Kind::kTcp) {
      node->transport = std::make_unique<TcpTransport>(std::move(config));
    } else {
      node->transport = network_->CreateTransport(name, std::move(config));
    }
    return node;
  }

  void Listen(Node& node) {
    std::string address = GetParam() == Kind::kTcp ? "127.0.0.1:0" : node.name + ":7470";
    auto listener = node.transport->Listen(address, node.accepted.handlers());
    ASSERT_TRUE(listener.ok()) << listener.status();
    node.listener = *std::move(listener);
  }

  absl::StatusOr<std::shared_ptr<Link>> Dial(Node& from, Node& to,
                                             std::optional<InviteCredential> invite = {},
                                             std::string expected = "") {
    DialRequest request;
    request.address = to.listener->address();
    request.expected_node_id = expected.empty() ? to.key.public_key : expected;
    request.invite = std::move(invite);
    return from.transport->Dial(request);
  }

  // A bare connection to `to`'s listener: the test plays the dialer byte by byte.
  std::unique_ptr<ByteStream> RawConnect(Node& to) {
    if (GetParam() == Kind::kTcp) {
      auto stream = TcpStream::Connect(*ParseHostPort(to.listener->address()),
                                       Clock::now() + 5s);
      EXPECT_TRUE(stream.ok()) << stream.status();
      return stream.ok() ? *std::move(stream) : nullptr;
    }
    auto stream = network_->DialRaw("raw-peer", to.listener->address());
    EXPECT_TRUE(stream.ok()) << stream.status();
    return stream.ok() ? *std::move(stream) : nullptr;
  }

  std::shared_ptr<InMemoryNetwork> network_ = InMemoryNetwork::Create();
};

INSTANTIATE_TEST_SUITE_P(Transports, TransportTest, ::testing::Values(Kind::kTcp, Kind::kMemory),
                         KindName);

TEST_P(TransportTest, HandshakeLinksBothNodesAndCarriesPayloadsBothWays) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ((*dialed)->peer_id(), a->key.public_key);
  EXPECT_EQ(accepted->peer_id(), b->key.public_key);
  EXPECT_TRUE((*dialed)->dialed());
  EXPECT_FALSE(accepted->dialed());
  EXPECT_EQ(accepted->invite_id(), "");
  LinkProbe at_a;
  LinkProbe at_b;
  accepted->Start(at_a.handler());
  (*dialed)->Start(at_b.handler());
  ASSERT_TRUE((*dialed)->Send("from b").ok());
  ASSERT_TRUE(accepted->Send("from a").ok());
  ASSERT_TRUE(at_a.WaitForPayloads(1, 5s));
  ASSERT_TRUE(at_b.WaitForPayloads(1, 5s));
  EXPECT_EQ(at_a.payloads()[0], "from b");
  EXPECT_EQ(at_b.payloads()[0], "from a");
  EXPECT_TRUE(accepted->open());
  EXPECT_TRUE(accepted->close_reason().ok());
  // And the other way round: a dials b.
  Listen(*b);
  auto reverse = Dial(*a, *b);
  ASSERT_TRUE(reverse.ok()) << reverse.status();
  EXPECT_EQ((*reverse)->peer_id(), b->key.public_key);
  ASSERT_NE(b->accepted.NextLink(5s), nullptr);
}

TEST_P(TransportTest, DialerRefusesANodeOtherThanTheExpectedOne) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  KeyPair other = GenerateKeyPair();
  auto dialed = Dial(*b, *a, std::nullopt, other.public_key);
  ASSERT_FALSE(dialed.ok());
  EXPECT_EQ(dialed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(dialed.status().message()), HasSubstr(ToHex(other.public_key)));
  EXPECT_THAT(std::string(dialed.status().message()), HasSubstr(ToHex(a->key.public_key)));
  // The listener never gets a link, only a failed handshake.
  auto refusal = a->accepted.NextRefusal(5s);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(a->accepted.NextLink(0ms), nullptr);
}

TEST_P(TransportTest, ListenerRefusesANodeItDoesNotAdmit) {
  auto b = MakeNode("b");
  std::string member = GenerateKeyPair().public_key;
  auto a = MakeNode("a", TestLimits(),
                    [&](const std::string& node, const std::optional<InviteProof>&) {
                      if (node == member) return absl::OkStatus();
                      return absl::PermissionDeniedError(fmt::format(
                          "node {} is not an active peer of a mesh this node shares",
                          ShortHex(node)));
                    });
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_FALSE(dialed.ok());
  EXPECT_EQ(dialed.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(dialed.status().message()), HasSubstr("not an active peer"));
  auto refusal = a->accepted.NextRefusal(5s);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(a->accepted.NextLink(0ms), nullptr);
}

// The kernel's side of invites, as the admission callback sees them.
class InviteBook {
 public:
  void Add(const std::string& id, const std::string& secret, Clock::time_point expires) {
    std::lock_guard lock(mu_);
    invites_[id] = Invite{secret, expires, false};
  }

  AdmitPeerFn Admit() {
    return [this](const std::string& node, const std::optional<InviteProof>& proof) {
      std::lock_guard lock(mu_);
      if (!proof) {
        if (members_.count(node) != 0) return absl::OkStatus();
        return absl::PermissionDeniedError("not an active peer");
      }
      auto it = invites_.find(proof->invite_id());
      if (it == invites_.end()) return absl::PermissionDeniedError("unknown invite");
      if (Clock::now() >= it->second.expires) {
        return absl::FailedPreconditionError(
            fmt::format("invite {} has expired", proof->invite_id()));
      }
      if (it->second.used) {
        return absl::FailedPreconditionError(
            fmt::format("invite {} was already used", proof->invite_id()));
      }
      if (!proof->VerifiesWith(it->second.secret)) {
        return absl::UnauthenticatedError("the invite proof does not verify");
      }
      it->second.used = true;
      members_.insert(node);
      return absl::OkStatus();
    };
  }

 private:
  struct Invite {
    std::string secret;
    Clock::time_point expires;
    bool used = false;
  };
  std::mutex mu_;
  std::map<std::string, Invite> invites_;
  std::set<std::string> members_;
};

TEST_P(TransportTest, InviteProofAdmitsItsHolderOnceAndOnlyWithTheSecret) {
  InviteBook book;
  std::string secret = RandomBytes(32);
  book.Add("good", secret, Clock::now() + 1h);
  book.Add("spare", secret, Clock::now() + 1h);
  book.Add("old", secret, Clock::now() - 1s);
  auto a = MakeNode("a", TestLimits(), book.Admit());
  auto b = MakeNode("b");
  auto c = MakeNode("c");
  Listen(*a);

  // Not a member, no invite.
  EXPECT_EQ(Dial(*b, *a).status().code(), absl::StatusCode::kPermissionDenied);
  // Wrong secret.
  std::string wrong = secret;
  wrong[5] ^= 1;
  auto bad = Dial(*b, *a, InviteCredential{"spare", wrong});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated) << bad.status();
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("does not verify"));
  // Expired.
  auto expired = Dial(*b, *a, InviteCredential{"old", secret});
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(expired.status().message()), HasSubstr("expired"));
  // Good: admitted, and both sides know which invite.
  auto joined = Dial(*b, *a, InviteCredential{"good", secret});
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ((*joined)->invite_id(), "good");
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->invite_id(), "good");
  EXPECT_EQ(accepted->peer_id(), b->key.public_key);
  // Single use: c cannot reuse it.
  auto reused = Dial(*c, *a, InviteCredential{"good", secret});
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reused.status().message()), HasSubstr("already used"));
  // b is a member now: it links without an invite.
  EXPECT_TRUE(Dial(*b, *a).ok());
}

TEST_P(TransportTest, ManyFramesArriveIntactAndInOrderBothWays) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  LinkProbe at_b;
  accepted->Start(at_a.handler());
  (*dialed)->Start(at_b.handler());

  constexpr size_t kFrames = 1500;
  auto size_of = [](size_t i) -> size_t {
    if (i == 700) return kMaxFramePayloadBytes;  // the largest frame allowed
    if (i % 50 == 0) return 200 * 1024;
    return (i * 37) % 3000;
  };
  auto send_all = [&](Link& link, uint64_t salt) {
    for (size_t i = 0; i < kFrames; ++i) {
      absl::Status sent = link.Send(PatternPayload(salt + i, size_of(i)), 10s);
      ASSERT_TRUE(sent.ok()) << sent;
    }
  };
  std::thread from_b([&] { send_all(**dialed, 0); });
  std::thread from_a([&] { send_all(*accepted, 1'000'000); });
  from_b.join();
  from_a.join();
  ASSERT_TRUE(at_a.WaitForPayloads(kFrames, 60s)) << at_a.payload_count();
  ASSERT_TRUE(at_b.WaitForPayloads(kFrames, 60s)) << at_b.payload_count();
  auto got_a = at_a.payloads();
  auto got_b = at_b.payloads();
  ASSERT_EQ(got_a.size(), kFrames);
  ASSERT_EQ(got_b.size(), kFrames);
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(got_a[i], PatternPayload(i, size_of(i))) << "frame " << i << " at a";
    ASSERT_EQ(got_b[i], PatternPayload(1'000'000 + i, size_of(i))) << "frame " << i << " at b";
  }
  // Each side counts a frame after handling it (the receiver once it delivered it, the
  // sender once its write returned), so the counts may trail what the other side saw.
  EXPECT_TRUE(WaitFor([&] { return accepted->stats().frames_received == kFrames; }, 5s))
      << accepted->stats().frames_received;
  EXPECT_TRUE(WaitFor([&] { return (*dialed)->stats().frames_sent == kFrames; }, 5s))
      << (*dialed)->stats().frames_sent;
  // One byte over the frame limit is refused at Send.
  EXPECT_EQ((*dialed)->Send(std::string(kMaxFramePayloadBytes + 1, 'x')).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE((*dialed)->open());
}

TEST_P(TransportTest, CloseTellsThePeerWhy) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  LinkProbe at_b;
  accepted->Start(at_a.handler());
  (*dialed)->Start(at_b.handler());
  accepted->Close("node going down for maintenance");
  ASSERT_TRUE(at_b.WaitForClose(5s));
  EXPECT_EQ(at_b.close_reason().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(at_b.close_reason().message()), HasSubstr("for maintenance"));
  EXPECT_FALSE(IsMisbehaviour(at_b.close_reason()));
  ASSERT_TRUE(at_a.WaitForClose(5s));
  EXPECT_EQ(at_a.close_reason().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(accepted->close_reason().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(accepted->open());
  EXPECT_EQ(accepted->Send("late").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*dialed)->Send("late").code(), absl::StatusCode::kUnavailable);
  accepted->Close("again");
  EXPECT_EQ(at_a.close_calls(), 1);
}

TEST_P(TransportTest, ReleasingALinkClosesIt) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  accepted->Start(at_a.handler());
  dialed->reset();
  ASSERT_TRUE(at_a.WaitForClose(5s));
  EXPECT_THAT(std::string(at_a.close_reason().message()), HasSubstr("link released"));
}

TEST_P(TransportTest, ShuttingDownATransportClosesItsLinks) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  LinkProbe at_b;
  (*dialed)->Start(at_b.handler());
  a.reset();
  ASSERT_TRUE(at_b.WaitForClose(5s));
  EXPECT_EQ(at_b.close_reason().code(), absl::StatusCode::kUnavailable);
}

TEST_P(TransportTest, DialingAnAddressNobodyListensOnFails) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  std::string address = a->listener->address();
  a->listener.reset();
  DialRequest request;
  request.address = address;
  request.expected_node_id = a->key.public_key;
  auto dialed = b->transport->Dial(request);
  EXPECT_EQ(dialed.status().code(), absl::StatusCode::kUnavailable) << dialed.status();
}

// The test plays the dialer by hand, then misbehaves after a genuine handshake.
class RawPeer {
 public:
  RawPeer(std::unique_ptr<ByteStream> stream, const KeyPair& key, const std::string& listener)
      : stream_(std::move(stream)) {
    auto handshake = Handshake::ForDialer(&key, listener, std::nullopt);
    auto session = RunHandshake(*stream_, *handshake, Clock::now() + 5s);
    EXPECT_TRUE(session.ok()) << session.status();
    if (session.ok()) session_.emplace(*std::move(session));
  }

  bool ok() const { return session_.has_value(); }
  FrameSealer& sealer() { return session_->sealer; }
  ByteStream& stream() { return *stream_; }

  // Reads what the listener sends until its close frame; returns its reason.
  std::string ReadCloseReason() {
    FrameReceiver receiver(session_->opener);
    std::string buffer = session_->leftover;
    auto deadline = Clock::now() + 5s;
    while (!receiver.peer_closed()) {
      if (!receiver.Feed(buffer, [](std::string) {}).ok()) return "<bad frame>";
      if (receiver.peer_closed()) break;
      if (!stream_->Read(4096, deadline, &buffer).ok()) return "<no close frame>";
    }
    return receiver.peer_reason();
  }

 private:
  std::unique_ptr<ByteStream> stream_;
  std::optional<EstablishedSession> session_;
};

TEST_P(TransportTest, ATamperedCiphertextByteClosesTheLinkWithAReason) {
  auto a = MakeNode("a");
  KeyPair b_key = GenerateKeyPair();
  Listen(*a);
  RawPeer peer(RawConnect(*a), b_key, a->key.public_key);
  ASSERT_TRUE(peer.ok());
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  accepted->Start(at_a.handler());
  std::string good = peer.sealer().Seal("a genuine payload");
  std::string tampered = peer.sealer().Seal("a tampered payload");
  tampered[kLengthPrefixBytes + 5] ^= 0x20;
  ASSERT_TRUE(peer.stream().Write(good + tampered, 5s).ok());
  ASSERT_TRUE(at_a.WaitForClose(5s));
  EXPECT_EQ(at_a.close_reason().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(at_a.close_reason().message()), HasSubstr("failed authentication"));
  EXPECT_TRUE(IsMisbehaviour(at_a.close_reason()));
  EXPECT_EQ(at_a.payloads(), std::vector<std::string>{"a genuine payload"});
  // The peer is told why.
  EXPECT_THAT(peer.ReadCloseReason(), HasSubstr("failed authentication"));
}

TEST_P(TransportTest, AnOversizedLengthPrefixClosesTheLinkBeforeAnyBodyArrives) {
  auto a = MakeNode("a");
  KeyPair b_key = GenerateKeyPair();
  Listen(*a);
  RawPeer peer(RawConnect(*a), b_key, a->key.public_key);
  ASSERT_TRUE(peer.ok());
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  accepted->Start(at_a.handler());
  // Announce a frame of 2 GiB and send none of it: the length alone must end the link.
  std::string prefix;
  AppendLengthPrefix(0x7fffffffu, &prefix);
  ASSERT_TRUE(peer.stream().Write(prefix, 5s).ok());
  ASSERT_TRUE(at_a.WaitForClose(5s));
  EXPECT_EQ(at_a.close_reason().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(at_a.close_reason().message()),
              HasSubstr(std::to_string(kMaxFrameCiphertextBytes)));
  EXPECT_TRUE(IsMisbehaviour(at_a.close_reason()));
  EXPECT_EQ(at_a.payload_count(), 0u);
}

TEST_P(TransportTest, AHalfOpenConnectionIsDroppedAtTheHandshakeDeadline) {
  LinkLimits limits = TestLimits();
  limits.handshake_timeout = 300ms;
  auto a = MakeNode("a", limits);
  Listen(*a);
  auto start = Clock::now();
  auto silent = RawConnect(*a);  // connects and never says a word
  ASSERT_NE(silent, nullptr);
  std::string received;
  std::string buffer;
  absl::Status read;
  while ((read = silent->Read(4096, start + 10s, &buffer)).ok()) received += buffer;
  // The listener said hello, then hung up on us: the end, not our own deadline...
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_EQ(received.substr(0, 4), "LATP");
  // ...because the handshake's deadline passed, and for no other reason.
  auto refusal = a->accepted.NextRefusal(5s);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), absl::StatusCode::kDeadlineExceeded) << *refusal;
}

TEST_P(TransportTest, UnauthenticatedConnectionsPerListenerAreCapped) {
  LinkLimits limits = TestLimits();
  limits.max_pending_handshakes = 2;
  limits.handshake_timeout = 30s;
  auto a = MakeNode("a", limits);
  auto b = MakeNode("b");
  Listen(*a);
  std::vector<std::unique_ptr<ByteStream>> silent;
  for (int i = 0; i < 2; ++i) {
    silent.push_back(RawConnect(*a));
    ASSERT_NE(silent.back(), nullptr);
    std::string hello;
    ASSERT_TRUE(silent.back()->Read(4096, Clock::now() + 5s, &hello).ok());  // slot taken
  }
  // The third is closed at once, without a hello.
  auto third = RawConnect(*a);
  ASSERT_NE(third, nullptr);
  std::string buffer;
  absl::Status read = third->Read(4096, Clock::now() + 5s, &buffer);
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  auto refusal = a->accepted.NextRefusal(5s);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), absl::StatusCode::kResourceExhausted) << *refusal;
  // Once the silent ones hang up, a genuine peer gets in.
  silent.clear();
  ASSERT_TRUE(a->accepted.NextRefusal(5s).has_value());
  ASSERT_TRUE(a->accepted.NextRefusal(5s).has_value());
  auto dialed = Dial(*b, *a);
  EXPECT_TRUE(dialed.ok()) << dialed.status();
}

TEST_P(TransportTest, APeerThatIsNotLatticeIsRefused) {
  auto a = MakeNode("a");
  Listen(*a);
  auto stranger = RawConnect(*a);
  ASSERT_NE(stranger, nullptr);
  ASSERT_TRUE(
      stranger->Write("GET / HTTP/1.1\r\nHost: lattice\r\nUser-Agent: curl\r\n\r\n", 5s).ok());
  auto refusal = a->accepted.NextRefusal(5s);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal->message()), HasSubstr("not a Lattice node"));
}

// Copies bytes between a dialer and a listener over TCP, keeping a copy of each direction.
class RecordingRelay {
 public:
  explicit RecordingRelay(const std::string& target) {
    acceptor_ = *TcpAcceptor::Bind(*ParseHostPort("127.0.0.1:0"));
    thread_ = std::thread([this, target] {
      auto inbound = acceptor_->Accept();
      if (!inbound.ok()) return;
      auto outbound = TcpStream::Connect(*ParseHostPort(target), Clock::now() + 5s);
      if (!outbound.ok()) return;
      std::thread back([&] { Pump(**outbound, **inbound, &to_dialer_); });
      Pump(**inbound, **outbound, &to_listener_);
      back.join();
    });
  }
  ~RecordingRelay() {
    acceptor_->Shutdown();
    thread_.join();
  }
  std::string address() const { return acceptor_->local_address(); }
  std::string captured() {
    std::lock_guard lock(mu_);
    return to_listener_ + to_dialer_;
  }

 private:
  void Pump(ByteStream& from, ByteStream& to, std::string* record) {
    std::string buffer;
    while (from.Read(65536, Clock::now() + 10s, &buffer).ok()) {
      {
        std::lock_guard lock(mu_);
        record->append(buffer);
      }
      if (!to.Write(buffer, 5s).ok()) break;
    }
    to.FinishWrites();
  }

  std::unique_ptr<TcpAcceptor> acceptor_;
  std::mutex mu_;
  std::string to_listener_;
  std::string to_dialer_;
  std::thread thread_;
};

TEST_P(TransportTest, ACaptureOfTheLinkHoldsNoPlaintext) {
  std::mutex mu;  // before the nodes: the tap may run until they are gone
  std::string tapped;
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  Listen(*a);
  std::unique_ptr<RecordingRelay> relay;
  DialRequest request;
  request.expected_node_id = a->key.public_key;
  if (GetParam() == Kind::kTcp) {
    relay = std::make_unique<RecordingRelay>(a->listener->address());
    request.address = relay->address();
  } else {
    network_->SetTap([&](const std::string&, const std::string&, std::string_view bytes) {
      std::lock_guard lock(mu);
      tapped.append(bytes);
    });
    request.address = a->listener->address();
  }
  auto dialed = b->transport->Dial(request);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  LinkProbe at_b;
  accepted->Start(at_a.handler());
  (*dialed)->Start(at_b.handler());
  const std::string secret_value = "value:the-launch-code-is-0000";
  const std::string reply = "value:reply-with-the-other-secret";
  ASSERT_TRUE((*dialed)->Send(secret_value).ok());
  ASSERT_TRUE(accepted->Send(reply).ok());
  ASSERT_TRUE(at_a.WaitForPayloads(1, 5s));
  ASSERT_TRUE(at_b.WaitForPayloads(1, 5s));
  accepted->Close("close-reason-marker");
  ASSERT_TRUE(at_b.WaitForClose(5s));
  ASSERT_TRUE(at_a.WaitForClose(5s));
  std::string capture;
  if (relay) {
    capture = relay->captured();
  } else {
    std::lock_guard lock(mu);
    capture = tapped;
  }
  // The capture is real (hellos, headers, handshake and both payloads went through it)...
  EXPECT_GT(capture.size(), 2 * kHelloBytes + secret_value.size() + reply.size());
  EXPECT_EQ(capture.substr(0, 4), "LATP");
  // ...and shows no payload, no close reason, and not even who the two nodes are.
  EXPECT_EQ(capture.find("value:"), std::string::npos);
  EXPECT_EQ(capture.find("close-reason-marker"), std::string::npos);
  EXPECT_EQ(capture.find(a->key.public_key), std::string::npos);
  EXPECT_EQ(capture.find(b->key.public_key), std::string::npos);
}

// The token bucket's arithmetic is tested on an injected clock (frame_test.cc); here, that
// the link enforces it. The rate is so low that once the burst is spent, a refill of one
// payload takes a minute: what a reads is the burst, however fast or slow the machine.
TEST_P(TransportTest, ARateLimitedReaderTakesTheBurstThenHoldsTheSenderBack) {
  constexpr uint64_t kRate = 256;  // bytes per second
  constexpr uint64_t kBurst = 256 * 1024;
  constexpr size_t kPayload = 16 * 1024;
  constexpr uint64_t kReadBytes = 64 * 1024;  // what the reader takes at once (stream_link.cc)
  LinkLimits limits = TestLimits();
  limits.receive_bytes_per_second = kRate;
  limits.receive_burst_bytes = kBurst;
  auto a = MakeNode("a", limits);
  LinkLimits sender_limits = TestLimits();
  sender_limits.max_send_queue_bytes = 256 * 1024;
  auto b = MakeNode("b", sender_limits);
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  LinkProbe at_a;
  at_a.CountOnly();
  accepted->Start(at_a.handler());
  // b sends flat out until the back pressure reaches it: its send queue stays full.
  std::string payload = PatternPayload(7, kPayload);
  absl::Status sent;
  uint64_t sent_bytes = 0;
  auto give_up = Clock::now() + 30s;
  while ((sent = (*dialed)->Send(payload, 100ms)).ok() && Clock::now() < give_up) {
    sent_bytes += kPayload;
  }
  EXPECT_EQ(sent.code(), absl::StatusCode::kResourceExhausted) << sent;
  // a took most of the burst (a frame cut by the read that overdrew it waits)...
  ASSERT_TRUE(WaitFor([&] { return at_a.payload_bytes() >= kBurst / 2; }, 20s))
      << at_a.payload_bytes() << " bytes read of a burst of " << kBurst;
  // ...and nothing beyond it but the read that overdrew it (and a minute's refill at most),
  // of the many times more b sent.
  EXPECT_GT(sent_bytes, 2 * kBurst);
  EXPECT_LE(at_a.payload_bytes(), kBurst + kReadBytes + kPayload)
      << "of " << sent_bytes << " bytes sent";
  // Slowed, not cut.
  EXPECT_TRUE(accepted->open());
  EXPECT_TRUE((*dialed)->open());
}

TEST_P(TransportTest, ASendToAPeerThatReadsNothingWaitsForRoomOnlyAsLongAsAsked) {
  LinkLimits limits = TestLimits();
  limits.max_send_queue_bytes = 256 * 1024;
  auto a = MakeNode("a");
  auto b = MakeNode("b", limits);
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);  // not started yet: a reads nothing
  std::string payload = PatternPayload(1, 64 * 1024);
  absl::Status status;
  int sent = 0;
  // Fill the socket or pipe buffers, then the queue, until no room appears for 100 ms.
  while ((status = (*dialed)->Send(payload, 100ms)).ok() && sent < 2000) ++sent;
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("send queue"));
  // A send that may not wait is refused, and so is one whose wait passes without room:
  // both return rather than block.
  EXPECT_EQ((*dialed)->Send(payload).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*dialed)->Send(payload, 200ms).code(), absl::StatusCode::kResourceExhausted);
  // A send that waits gets in once room appears: it waits while a starts reading.
  auto waiting = std::async(std::launch::async, [&] { return (*dialed)->Send(payload, 60s); });
  LinkProbe at_a;
  accepted->Start(at_a.handler());
  absl::Status waited = waiting.get();
  EXPECT_TRUE(waited.ok()) << waited;
  // Everything queued arrives.
  ASSERT_TRUE(at_a.WaitForPayloads(static_cast<size_t>(sent) + 1, 20s)) << at_a.payload_count();
  EXPECT_TRUE((*dialed)->Send(payload, 5s).ok());
}

TEST_P(TransportTest, APeerThatReadsNothingIsDisconnectedAfterTheStallTimeout) {
  LinkLimits limits = TestLimits();
  limits.write_stall_timeout = 300ms;
  auto a = MakeNode("a");
  auto b = MakeNode("b", limits);
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);  // never started
  LinkProbe at_b;
  (*dialed)->Start(at_b.handler());
  std::string payload = PatternPayload(2, 256 * 1024);
  auto deadline = Clock::now() + 30s;
  while (!at_b.closed() && Clock::now() < deadline) (void)(*dialed)->Send(payload, 50ms);
  ASSERT_TRUE(at_b.WaitForClose(1s));
  EXPECT_EQ(at_b.close_reason().code(), absl::StatusCode::kDeadlineExceeded)
      << at_b.close_reason();
  EXPECT_THAT(std::string(at_b.close_reason().message()), HasSubstr("accepted none"));
}

TEST_P(TransportTest, APeerThatKeepsSendingInvalidDataIsDisconnected) {
  LinkLimits limits = TestLimits();
  limits.max_invalid_reports = 3;
  auto a = MakeNode("a", limits);
  auto b = MakeNode("b");
  Listen(*a);
  auto dialed = Dial(*b, *a);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  auto accepted = a->accepted.NextLink(5s);
  ASSERT_NE(accepted, nullptr);
  // a judges each payload on the link's reader thread, as the kernel's replication does:
  // what is not a message it understands is reported as invalid.
  LinkProbe at_a;
  LinkProbe at_b;
  Link::Handler judge = at_a.handler();
  judge.on_payload = [record = judge.on_payload,
                      link = std::weak_ptr<Link>(accepted)](const std::string& payload) {
    bool understood = std::string_view(payload).starts_with("message:");
    record(payload);
    if (auto receiver = link.lock(); receiver && !understood) {
      receiver->ReportInvalid("not a message: " + payload);
    }
  };
  accepted->Start(std::move(judge));
  (*dialed)->Start(at_b.handler());
  for (const char* payload :
       {"message:1", "garbage one", "message:2", "garbage two", "message:3"}) {
    ASSERT_TRUE((*dialed)->Send(payload).ok());
  }
  ASSERT_TRUE(at_a.WaitForPayloads(5, 5s));
  EXPECT_TRUE(accepted->open()) << "two invalid payloads are tolerated";
  EXPECT_TRUE((*dialed)->open());
  ASSERT_TRUE((*dialed)->Send("garbage three").ok());
  ASSERT_TRUE(at_a.WaitForClose(5s));
  EXPECT_EQ(at_a.close_reason().code(), absl::StatusCode::kInvalidArgument) << at_a.close_reason();
  EXPECT_THAT(std::string(at_a.close_reason().message()), HasSubstr("garbage three"));
  EXPECT_TRUE(IsMisbehaviour(at_a.close_reason()));
  EXPECT_EQ(at_a.payloads(), (std::vector<std::string>{"message:1", "garbage one", "message:2",
                                                       "garbage two", "message:3",
                                                       "garbage three"}));
  // The sender is told why, and its link is closed too.
  ASSERT_TRUE(at_b.WaitForClose(5s));
  EXPECT_THAT(std::string(at_b.close_reason().message()), HasSubstr("kept sending invalid"));
  EXPECT_FALSE((*dialed)->open());
}

}  // namespace
}  // namespace lattice::kernel::net

namespace lattice::kernel::net {
namespace {

TEST(TcpTransportSource, DialLeavesFromTheConfiguredSourceAddress) {
  KeyPair a_key = GenerateKeyPair();
  KeyPair b_key = GenerateKeyPair();
  AcceptLog accepted;
  TransportConfig a_config;
  a_config.identity = &a_key;
  a_config.admit = [](const std::string&, const std::optional<InviteProof>&) {
    return absl::OkStatus();
  };
  TcpTransport a(std::move(a_config));
  auto listener = a.Listen("127.0.0.1:0", accepted.handlers());
  ASSERT_TRUE(listener.ok()) << listener.status();
  TransportConfig b_config;
  b_config.identity = &b_key;
  b_config.source_ip = "127.0.0.23";
  TcpTransport b(std::move(b_config));
  DialRequest request;
  request.address = (*listener)->address();
  request.expected_node_id = a_key.public_key;
  auto link = b.Dial(request);
  ASSERT_TRUE(link.ok()) << link.status();
  auto at_a = accepted.NextLink(std::chrono::seconds(5));
  ASSERT_NE(at_a, nullptr);
  EXPECT_EQ(at_a->remote_address().rfind("127.0.0.23:", 0), 0u) << at_a->remote_address();

  TransportConfig bad_config;
  bad_config.identity = &b_key;
  bad_config.source_ip = "not-an-ip";
  TcpTransport bad(std::move(bad_config));
  auto refused = bad.Dial(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("not-an-ip"));
}

}  // namespace
}  // namespace lattice::kernel::net
