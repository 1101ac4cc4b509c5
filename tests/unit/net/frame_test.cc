// The link's framing and encryption without IO: length-prefix decoding, secretstream frames,
// the receiving half, the rate limiter, addresses and peer text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lattice/common/crypto.h"
#include "net/address.h"
#include "net/frame_cipher.h"
#include "net/frame_decoder.h"
#include "net/frame_receiver.h"
#include "net/link_limits.h"
#include "net/peer_text.h"
#include "net/token_bucket.h"

namespace lattice::kernel::net {
namespace {

std::string Prefix(uint32_t n) {
  std::string out;
  AppendLengthPrefix(n, &out);
  return out;
}

struct CipherPair {
  std::string key = RandomBytes(kStreamKeyBytes);
  std::string header;
  FrameSealer sealer = *FrameSealer::Start(key, &header);
  FrameOpener opener = *FrameOpener::Start(key, header);
};

TEST(FrameDecoder, SplitsFramesWhateverTheChunking) {
  std::string wire = Prefix(3) + "abc" + Prefix(0) + Prefix(5) + "hello";
  for (size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    FrameDecoder decoder(0, 16);
    std::vector<std::string> frames;
    for (size_t at = 0; at < wire.size(); at += chunk) {
      std::string_view input = std::string_view(wire).substr(at, chunk);
      while (!input.empty()) {
        auto frame = decoder.Next(&input);
        ASSERT_TRUE(frame.ok()) << frame.status();
        if (frame->has_value()) frames.push_back(**frame);
      }
    }
    EXPECT_EQ(frames, (std::vector<std::string>{"abc", "", "hello"})) << "chunk " << chunk;
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(FrameDecoder, RefusesOversizedLengthBeforeBufferingAnything) {
  FrameDecoder decoder(kFrameOverheadBytes, kMaxFrameCiphertextBytes);
  std::string wire = Prefix(0xffffffffu) + std::string(100, 'x');
  std::string_view input = wire;
  auto frame = decoder.Next(&input);
  ASSERT_EQ(frame.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(frame.status().message()).find(std::to_string(kMaxFrameCiphertextBytes)),
            std::string::npos)
      << frame.status();
  // Nothing of the announced 4 GiB was taken or reserved.
  EXPECT_EQ(input.size(), 100u);
  EXPECT_LT(decoder.body_capacity(), 64u);
  // The stream cannot resynchronise after that.
  EXPECT_FALSE(decoder.Next(&input).ok());
}

TEST(FrameDecoder, AcceptsExactlyTheLimitAndGrowsOnlyWithReceivedBytes) {
  FrameDecoder decoder(0, 1 << 20);
  std::string wire = Prefix(1 << 20) + std::string(10, 'y');
  std::string_view input = wire;
  auto frame = decoder.Next(&input);
  ASSERT_TRUE(frame.ok());
  EXPECT_FALSE(frame->has_value());
  EXPECT_LT(decoder.body_capacity(), 4096u);
  std::string one_over = Prefix((1 << 20) + 1);
  std::string_view over = one_over;
  FrameDecoder other(0, 1 << 20);
  EXPECT_EQ(other.Next(&over).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(FrameDecoder, RefusesFramesShorterThanTheAuthenticator) {
  FrameDecoder decoder(kFrameOverheadBytes, 1024);
  std::string wire = Prefix(3) + "abc";
  std::string_view input = wire;
  EXPECT_EQ(decoder.Next(&input).status().code(), absl::StatusCode::kDataLoss);
}

TEST(FrameCipher, RoundTripsInOrderWithTheFinalTag) {
  CipherPair pair;
  std::vector<std::string> sent = {"", "one", std::string(100000, 'z')};
  for (const auto& payload : sent) {
    std::string frame = pair.sealer.Seal(payload);
    ASSERT_EQ(frame.size(), kLengthPrefixBytes + payload.size() + kFrameOverheadBytes);
    std::string out;
    bool final = true;
    ASSERT_TRUE(pair.opener.Open(frame.substr(kLengthPrefixBytes), &out, &final).ok());
    EXPECT_EQ(out, payload);
    EXPECT_FALSE(final);
  }
  std::string frame = pair.sealer.Seal("bye", true);
  std::string out;
  bool final = false;
  ASSERT_TRUE(pair.opener.Open(frame.substr(kLengthPrefixBytes), &out, &final).ok());
  EXPECT_TRUE(final);
  EXPECT_EQ(out, "bye");
}

TEST(FrameCipher, AnyFlippedBitFailsAuthentication) {
  CipherPair pair;
  std::string ciphertext = pair.sealer.Seal("a payload of some length").substr(kLengthPrefixBytes);
  for (size_t i = 0; i < ciphertext.size(); ++i) {
    FrameOpener opener = pair.opener;  // the state before this frame
    std::string tampered = ciphertext;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    std::string out;
    bool final = false;
    absl::Status status = opener.Open(tampered, &out, &final);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << "byte " << i;
    EXPECT_TRUE(out.empty());
  }
}

TEST(FrameCipher, ReorderedOrReplayedFramesFail) {
  CipherPair pair;
  std::string first = pair.sealer.Seal("first").substr(kLengthPrefixBytes);
  std::string second = pair.sealer.Seal("second").substr(kLengthPrefixBytes);
  std::string out;
  bool final = false;
  EXPECT_FALSE(pair.opener.Open(second, &out, &final).ok());
  ASSERT_TRUE(pair.opener.Open(first, &out, &final).ok());
  EXPECT_FALSE(pair.opener.Open(first, &out, &final).ok());
  EXPECT_TRUE(pair.opener.Open(second, &out, &final).ok());
}

TEST(FrameCipher, AnotherSessionsKeyCannotOpen) {
  CipherPair a;
  CipherPair b;
  std::string out;
  bool final = false;
  EXPECT_FALSE(
      b.opener.Open(a.sealer.Seal("x").substr(kLengthPrefixBytes), &out, &final).ok());
}

TEST(FrameReceiver, DeliversPayloadsThenThePeersReason) {
  CipherPair pair;
  std::string wire = pair.sealer.Seal("p1");
  wire += pair.sealer.Seal("p2");
  wire += pair.sealer.Seal("going away\n", true);
  FrameReceiver receiver(pair.opener);
  std::vector<std::string> got;
  // Byte by byte: frames split anywhere still arrive whole.
  for (char c : wire) {
    absl::Status status = receiver.Feed(std::string(1, c), [&](std::string p) { got.push_back(p); });
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_TRUE(receiver.peer_closed());
  EXPECT_EQ(receiver.peer_reason(), "going away?");
  EXPECT_EQ(receiver.Feed("x", [](std::string) {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(FrameReceiver, ATamperedFrameIsFinal) {
  CipherPair pair;
  std::string wire = pair.sealer.Seal("p1");
  wire[kLengthPrefixBytes + 2] ^= 0x40;
  wire += pair.sealer.Seal("p2");
  FrameReceiver receiver(pair.opener);
  int delivered = 0;
  absl::Status status = receiver.Feed(wire, [&](std::string) { ++delivered; });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(delivered, 0);
  EXPECT_FALSE(receiver.Feed(pair.sealer.Seal("p3"), [&](std::string) { ++delivered; }).ok());
  EXPECT_EQ(delivered, 0);
}

TEST(TokenBucket, AllowsTheBurstThenHoldsToTheRate) {
  using namespace std::chrono;
  auto t0 = TokenBucket::Clock::time_point();
  TokenBucket bucket(1000, 500, t0);
  EXPECT_EQ(bucket.Take(500, t0), TokenBucket::Clock::duration::zero());
  // 250 over budget at 1000/s: wait 250 ms.
  auto wait = bucket.Take(250, t0);
  EXPECT_NEAR(duration<double>(wait).count(), 0.25, 1e-6);
  // After that wait the debt is paid; half a second later 500 more are allowed.
  EXPECT_EQ(bucket.Take(0, t0 + 250ms), TokenBucket::Clock::duration::zero());
  EXPECT_EQ(bucket.Take(500, t0 + 750ms), TokenBucket::Clock::duration::zero());
  // An idle hour refills only up to the burst.
  EXPECT_EQ(bucket.Take(500, t0 + 1h), TokenBucket::Clock::duration::zero());
  EXPECT_GT(bucket.Take(1, t0 + 1h), TokenBucket::Clock::duration::zero());
}

TEST(TokenBucket, RateZeroIsUnlimited) {
  TokenBucket bucket(0, 0, TokenBucket::Clock::now());
  EXPECT_EQ(bucket.Take(1ull << 40, TokenBucket::Clock::now()),
            TokenBucket::Clock::duration::zero());
}

TEST(Address, ParsesHostsPortsAndDefaults) {
  auto a = ParseHostPort("node.example:7000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "node.example");
  EXPECT_EQ(a->port, 7000);
  auto b = ParseHostPort("10.0.0.1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, kDefaultPort);
  auto c = ParseHostPort("[::1]:0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 0);
  EXPECT_EQ(FormatHostPort(*c), "[::1]:0");
  EXPECT_EQ(ParseHostPort("[::1]").value().port, kDefaultPort);
  for (const char* bad : {"", ":7470", "host:", "host:65536", "host:12a", "::1", "[::1", "[::1]x"}) {
    EXPECT_EQ(ParseHostPort(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PeerText, CutsOnACharacterBoundaryAndHidesControls) {
  EXPECT_EQ(PeerText("a\x1b[31mb\n"), "a?[31mb?");
  std::string long_text(kMaxCloseReasonBytes - 1, 'x');
  long_text += "\xc3\xa9 tail";  // é straddles the limit
  std::string cut = PeerText(long_text);
  EXPECT_EQ(cut, std::string(kMaxCloseReasonBytes - 1, 'x'));
}

}  // namespace
}  // namespace lattice::kernel::net
