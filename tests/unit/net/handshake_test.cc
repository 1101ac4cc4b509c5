// The handshake state machine on its own, two sides pumped into each other in memory:
// identities, admission, invites, replay, reflection and malformed peers.
#include <gtest/gtest.h>

#include <string>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "net/handshake.h"
#include "net/link_limits.h"

namespace lattice::kernel::net {
namespace {

struct Outcome {
  absl::Status dialer = absl::OkStatus();
  absl::Status listener = absl::OkStatus();
  std::string dialer_bytes;    // everything the dialer wrote
  std::string listener_bytes;  // everything the listener wrote
};

// Moves bytes between the two sides, `chunk` bytes at a time, until neither has more to say.
Outcome Pump(Handshake& dialer, Handshake& listener, size_t chunk = 1 << 20) {
  Outcome outcome;
  std::string to_listener;
  std::string to_dialer;
  bool progress = true;
  while (progress) {
    progress = false;
    std::string out = dialer.TakeOutput();
    outcome.dialer_bytes += out;
    to_listener += out;
    out = listener.TakeOutput();
    outcome.listener_bytes += out;
    to_dialer += out;
    if (!to_listener.empty() && !listener.failed()) {
      size_t n = std::min(chunk, to_listener.size());
      absl::Status status = listener.Feed(std::string_view(to_listener).substr(0, n));
      to_listener.erase(0, n);
      if (!status.ok()) outcome.listener = status;
      progress = true;
    }
    if (!to_dialer.empty() && !dialer.failed()) {
      size_t n = std::min(chunk, to_dialer.size());
      absl::Status status = dialer.Feed(std::string_view(to_dialer).substr(0, n));
      to_dialer.erase(0, n);
      if (!status.ok()) outcome.dialer = status;
      progress = true;
    }
  }
  return outcome;
}

AdmitPeerFn AdmitAll() {
  return [](const std::string&, const std::optional<InviteProof>&) { return absl::OkStatus(); };
}

class HandshakeTest : public ::testing::Test {
 protected:
  KeyPair dialer_key_ = GenerateKeyPair();
  KeyPair listener_key_ = GenerateKeyPair();

  Handshake Dialer(std::optional<InviteCredential> invite = std::nullopt) {
    return *Handshake::ForDialer(&dialer_key_, listener_key_.public_key, std::move(invite));
  }
};

TEST_F(HandshakeTest, BothSidesLearnTheOthersIdentityAndShareStreams) {
  Handshake dialer = Dialer();
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  Outcome outcome = Pump(dialer, listener);
  ASSERT_TRUE(outcome.dialer.ok()) << outcome.dialer;
  ASSERT_TRUE(outcome.listener.ok()) << outcome.listener;
  ASSERT_TRUE(dialer.established());
  ASSERT_TRUE(listener.established());
  EstablishedSession d = dialer.TakeSession();
  EstablishedSession l = listener.TakeSession();
  EXPECT_EQ(d.peer_id, listener_key_.public_key);
  EXPECT_EQ(l.peer_id, dialer_key_.public_key);
  EXPECT_EQ(d.role, Role::kDialer);
  EXPECT_EQ(l.role, Role::kListener);
  // Each side's sealer matches the other's opener, in both directions.
  std::string out;
  bool final = false;
  ASSERT_TRUE(l.opener.Open(d.sealer.Seal("to listener").substr(4), &out, &final).ok());
  EXPECT_EQ(out, "to listener");
  ASSERT_TRUE(d.opener.Open(l.sealer.Seal("to dialer").substr(4), &out, &final).ok());
  EXPECT_EQ(out, "to dialer");
  // Hello layout: magic, version, role, ephemeral key.
  EXPECT_EQ(outcome.dialer_bytes.substr(0, 4), "LATP");
  EXPECT_EQ(outcome.dialer_bytes[4], 1);
  EXPECT_EQ(outcome.dialer_bytes[5], 1);
  EXPECT_EQ(outcome.listener_bytes[5], 2);
}

TEST_F(HandshakeTest, WorksWhenBytesArriveOneAtATime) {
  Handshake dialer = Dialer();
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  Outcome outcome = Pump(dialer, listener, 1);
  EXPECT_TRUE(dialer.established()) << outcome.dialer;
  EXPECT_TRUE(listener.established()) << outcome.listener;
}

TEST_F(HandshakeTest, BytesPastTheHandshakeAreKeptForTheLink) {
  Handshake dialer = Dialer();
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  // Run the listener to its end first, then let it send a frame in the same burst as its
  // verdict.
  std::string to_listener = dialer.TakeOutput();
  std::string to_dialer = listener.TakeOutput();
  ASSERT_TRUE(listener.Feed(to_listener).ok());
  ASSERT_TRUE(dialer.Feed(to_dialer).ok());
  ASSERT_TRUE(listener.Feed(dialer.TakeOutput()).ok());  // dialer's header
  ASSERT_TRUE(dialer.Feed(listener.TakeOutput()).ok());  // listener's header and auth
  ASSERT_TRUE(listener.Feed(dialer.TakeOutput()).ok());  // dialer's auth
  ASSERT_TRUE(listener.established());
  std::string verdict = listener.TakeOutput();
  EstablishedSession l = listener.TakeSession();
  std::string early = l.sealer.Seal("early payload");
  ASSERT_TRUE(dialer.Feed(verdict + early).ok());
  ASSERT_TRUE(dialer.established());
  EstablishedSession d = dialer.TakeSession();
  EXPECT_EQ(d.leftover, early);
}

TEST_F(HandshakeTest, DialerRefusesAnotherNodeBeforeRevealingItself) {
  KeyPair someone_else = GenerateKeyPair();
  Handshake dialer = *Handshake::ForDialer(&dialer_key_, someone_else.public_key,
                                           InviteCredential{"inv", std::string(32, 's')});
  bool admit_called = false;
  Handshake listener = Handshake::ForListener(
      &listener_key_, [&](const std::string&, const std::optional<InviteProof>&) {
        admit_called = true;
        return absl::OkStatus();
      });
  Outcome outcome = Pump(dialer, listener);
  EXPECT_EQ(outcome.dialer.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(outcome.dialer.message()).find(ToHex(listener_key_.public_key)),
            std::string::npos)
      << outcome.dialer;
  EXPECT_TRUE(dialer.failed());
  EXPECT_FALSE(listener.established());
  EXPECT_FALSE(admit_called);
  // The dialer sent its hello and header only: no identity proof, no invite.
  EXPECT_EQ(outcome.dialer_bytes.size(), kHelloBytes + kStreamHeaderBytes);
}

TEST_F(HandshakeTest, ListenerRefusalReachesTheDialerWithItsCodeAndReason) {
  Handshake dialer = Dialer();
  std::string seen;
  Handshake listener = Handshake::ForListener(
      &listener_key_, [&](const std::string& node, const std::optional<InviteProof>& invite) {
        seen = node;
        EXPECT_FALSE(invite.has_value());
        return absl::PermissionDeniedError("not an active peer of any mesh of this node");
      });
  Outcome outcome = Pump(dialer, listener);
  EXPECT_EQ(seen, dialer_key_.public_key);
  EXPECT_EQ(outcome.listener.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(outcome.dialer.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(outcome.dialer.message()).find("not an active peer"), std::string::npos)
      << outcome.dialer;
  EXPECT_FALSE(dialer.established());
  EXPECT_FALSE(listener.established());
}

TEST_F(HandshakeTest, ListenerWithoutAdmissionRuleRefusesEveryone) {
  Handshake dialer = Dialer();
  Handshake listener = Handshake::ForListener(&listener_key_, nullptr);
  Outcome outcome = Pump(dialer, listener);
  EXPECT_EQ(outcome.dialer.code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(HandshakeTest, InviteProofVerifiesOnlyWithItsSecretAndJoiner) {
  std::string secret = RandomBytes(32);
  Handshake dialer = Dialer(InviteCredential{"invite-1", secret});
  std::optional<InviteProof> proof;
  Handshake listener = Handshake::ForListener(
      &listener_key_, [&](const std::string&, const std::optional<InviteProof>& invite) {
        proof = invite;
        return absl::OkStatus();
      });
  Outcome outcome = Pump(dialer, listener);
  ASSERT_TRUE(listener.established()) << outcome.listener;
  ASSERT_TRUE(proof.has_value());
  EXPECT_EQ(proof->invite_id(), "invite-1");
  EXPECT_EQ(proof->joiner_id(), dialer_key_.public_key);
  EXPECT_TRUE(proof->VerifiesWith(secret));
  std::string wrong = secret;
  wrong[0] ^= 1;
  EXPECT_FALSE(proof->VerifiesWith(wrong));
  EXPECT_FALSE(proof->VerifiesWith("short"));
  EXPECT_EQ(listener.TakeSession().invite_id, "invite-1");
  EXPECT_EQ(dialer.TakeSession().invite_id, "invite-1");
  // The same MAC presented for another joiner does not verify.
  auto mac = ComputeInviteMac(secret, "invite-1", dialer_key_.public_key,
                              std::string(kTranscriptBytes, 't'));
  ASSERT_TRUE(mac.ok());
  InviteProof stolen("invite-1", *mac, GenerateKeyPair().public_key,
                     std::string(kTranscriptBytes, 't'));
  EXPECT_FALSE(stolen.VerifiesWith(secret));
  InviteProof genuine("invite-1", *mac, dialer_key_.public_key,
                      std::string(kTranscriptBytes, 't'));
  EXPECT_TRUE(genuine.VerifiesWith(secret));
}

TEST_F(HandshakeTest, MalformedDialRequestsFailBeforeAnyByte) {
  EXPECT_EQ(Handshake::ForDialer(&dialer_key_, "short", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Handshake::ForDialer(&dialer_key_, listener_key_.public_key,
                                 InviteCredential{"id", "too short"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Handshake::ForDialer(&dialer_key_, listener_key_.public_key,
                                 InviteCredential{std::string(kMaxInviteIdBytes + 1, 'i'),
                                                  std::string(32, 's')})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(HandshakeTest, ARecordedHandshakeCannotBeReplayed) {
  Handshake dialer = Dialer();
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  Outcome recorded = Pump(dialer, listener);
  ASSERT_TRUE(listener.established());
  // An eavesdropper replays the dialer's bytes to a fresh listener of the same node.
  int admitted = 0;
  Handshake victim = Handshake::ForListener(
      &listener_key_, [&](const std::string&, const std::optional<InviteProof>&) {
        ++admitted;
        return absl::OkStatus();
      });
  absl::Status status = victim.Feed(recorded.dialer_bytes);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(victim.failed());
  EXPECT_FALSE(victim.established());
  EXPECT_EQ(admitted, 0);
}

TEST_F(HandshakeTest, AReflectedHelloIsRefused) {
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  absl::Status status = listener.Feed(listener.TakeOutput());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("role"), std::string::npos) << status;
  Handshake dialer = Dialer();
  EXPECT_FALSE(dialer.Feed(dialer.TakeOutput()).ok());
  // Same role byte flipped: the peer's own key echoed back is caught too.
  Handshake dialer2 = Dialer();
  std::string hello = dialer2.TakeOutput();
  hello[5] = 2;
  status = dialer2.Feed(hello);
  EXPECT_NE(std::string(status.message()).find("reflection"), std::string::npos) << status;
}

TEST_F(HandshakeTest, NonLatticePeersAndOtherVersionsAreRefused) {
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  absl::Status status = listener.Feed("GET / HTTP/1.1\r\nHost: example\r\n\r\n......");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("not a Lattice node"), std::string::npos);

  Handshake dialer = Dialer();
  Handshake listener2 = Handshake::ForListener(&listener_key_, AdmitAll());
  std::string hello = dialer.TakeOutput();
  hello[4] = 2;
  status = listener2.Feed(hello);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(status.message()).find("version 2"), std::string::npos) << status;
}

TEST_F(HandshakeTest, AWeakEphemeralKeyIsRefused) {
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  std::string hello = "LATP";
  hello.push_back(1);
  hello.push_back(1);
  hello += std::string(32, '\0');  // the identity point: no shared secret
  EXPECT_EQ(listener.Feed(hello).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HandshakeTest, AnOversizedHandshakeFrameIsRefusedAtItsLength) {
  Handshake dialer = Dialer();
  Handshake listener = Handshake::ForListener(&listener_key_, AdmitAll());
  ASSERT_TRUE(dialer.Feed(listener.TakeOutput()).ok());  // listener hello
  ASSERT_TRUE(listener.Feed(dialer.TakeOutput()).ok());  // dialer hello and header
  // Where the dialer's identity proof belongs, a length prefix of 1 MiB.
  absl::Status status = listener.Feed(std::string("\x00\x10\x00\x00", 4));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
}

}  // namespace
}  // namespace lattice::kernel::net
