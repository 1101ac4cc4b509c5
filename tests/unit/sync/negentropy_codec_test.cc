// The Negentropy V1 wire vocabulary against byte vectors: those published with the
// authors' implementations (varints, timestamps, bounds, fingerprints) and ones worked out
// by hand from the specification.
#include "sync/negentropy_codec.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>

namespace lattice::kernel::sync {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

ItemId IdHex(std::string_view hex) { return IdFromBytes(Unhex(hex)); }

TEST(NegentropyCodec, VarintsMatchPublishedVectors) {
  const std::pair<uint64_t, const char*> vectors[] = {
      {0, "00"},      {1, "01"},      {2, "02"},        {127, "7f"},      {128, "8100"},
      {255, "817f"},  {256, "8200"},  {65535, "83ff7f"}, {65536, "848000"}, {65537, "848001"}};
  for (const auto& [value, hex] : vectors) {
    std::string out;
    AppendVarint(&out, value);
    EXPECT_EQ(Hex(out), hex) << value;
    EXPECT_EQ(VarintLength(value), out.size());
    std::string_view in = out;
    auto decoded = ReadVarint(&in);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, value);
    EXPECT_TRUE(in.empty());
  }
}

TEST(NegentropyCodec, VarintRoundTripsAtTheEdgesAndRejectsOverflow) {
  for (uint64_t value : {uint64_t{1} << 63, UINT64_MAX, uint64_t{1} << 56, (uint64_t{1} << 7) - 1}) {
    std::string out;
    AppendVarint(&out, value);
    std::string_view in = out;
    auto decoded = ReadVarint(&in);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, value);
  }
  std::string max;
  AppendVarint(&max, UINT64_MAX);
  EXPECT_EQ(Hex(max), "81ffffffffffffffff7f");  // 64 bits in 10 digits, the first holding 1
  std::string_view too_big = "\x82\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  EXPECT_FALSE(ReadVarint(&too_big).ok());
  std::string_view truncated = "\x81\x80";
  EXPECT_FALSE(ReadVarint(&truncated).ok());
}

TEST(NegentropyCodec, TimestampsAreDeltaEncodedAsPublished) {
  MessageWriter writer;
  writer.AppendBound(Bound{1678011277, 0, {}});
  size_t first = writer.size();
  writer.AppendBound(Bound{1678011278, 0, {}});
  writer.AppendBound(Bound{1678011279, 0, {}});
  // 1 + 1678011277 = 0x6404bb8e -> "86a091d70e"; then deltas of one -> "02"; each bound is
  // followed by its prefix length, 00.
  EXPECT_EQ(Hex(writer.bytes().substr(1, first - 1)), "86a091d70e00");
  EXPECT_EQ(Hex(writer.bytes().substr(first)), "02000200");
}

TEST(NegentropyCodec, FullBoundMatchesPublishedVector) {
  MessageWriter writer;
  Item item{1678011277, IdHex("eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c")};
  writer.AppendBound(Bound::AtItem(item));
  EXPECT_EQ(Hex(writer.bytes().substr(1)),
            "86a091d70e20eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c");
}

TEST(NegentropyCodec, InfinityIsZeroAndResetsNothingBelowIt) {
  MessageWriter writer;
  writer.AppendBound(Bound{5, 0, {}});
  writer.AppendBound(Bound::Infinity());
  EXPECT_EQ(Hex(writer.bytes()), "61" "0600" "0000");
}

TEST(NegentropyCodec, FingerprintsMatchPublishedVectors) {
  ItemId a = IdHex("eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c");
  ItemId b = IdHex("39b916432333e069a4386917609215cc688eb99f06fed01aadc29b1b4b92d6f0");
  ItemId c = IdHex("abc81d58ebe3b9a87100d47f58bf15e9b1cbf62d38623f11d0f0d17179f5f3ba");
  Aggregate agg;
  agg.Add(Item{1678011277, a});
  auto hex_of = [](const Fingerprint& f) {
    return Hex(std::string_view(reinterpret_cast<const char*>(f.data()), f.size()));
  };
  EXPECT_EQ(hex_of(FingerprintOf(agg)), "6d74e1212fcafc8a81d090f0ffbde8b0");
  agg.Add(Item{1678011278, b});
  EXPECT_EQ(hex_of(FingerprintOf(agg)), "96b26d110825d4b1805fc56988a3e65d");
  agg.Add(Item{1678011279, c});
  EXPECT_EQ(hex_of(FingerprintOf(agg)), "c15ce60f185fd24ae341076caa93daa5");
}

TEST(NegentropyCodec, FingerprintHashesTheCountAsAVarintOfAnyLength) {
  // SHA-256(sum || varint(count)), first 16 bytes, with the varint written by AppendVarint
  // (held to the published vectors above): counts of one to ten varint bytes.
  Aggregate agg;
  agg.sum.Add(IdHex("eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c"));
  for (uint64_t count : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                         uint64_t{1} << 20, uint64_t{1} << 63, ~uint64_t{0}}) {
    agg.count = count;
    ItemId sum = agg.sum.Bytes();
    std::string input(reinterpret_cast<const char*>(sum.data()), sum.size());
    AppendVarint(&input, count);
    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, reinterpret_cast<const uint8_t*>(input.data()), input.size());
    Fingerprint expected;
    std::memcpy(expected.data(), hash, expected.size());
    EXPECT_EQ(FingerprintOf(agg), expected) << "count " << count;
  }
}

TEST(NegentropyCodec, IdSumCarriesAcrossLimbsAndSubtractionInvertsIt) {
  // Worked by hand: (2^256 - 1) + 1 = 0 mod 2^256, and 0xff..ff (first limb) + 1 carries
  // into byte 8 of the little-endian sum.
  ItemId ones;
  ones.fill(0xff);
  ItemId one{};
  one[0] = 1;
  IdSum sum;
  sum.Add(ones);
  sum.Add(one);
  EXPECT_EQ(sum.Bytes(), ItemId{});
  ItemId low_limb{};
  for (int i = 0; i < 8; ++i) low_limb[i] = 0xff;
  IdSum carry;
  carry.Add(low_limb);
  carry.Add(one);
  ItemId expected{};
  expected[8] = 1;
  EXPECT_EQ(carry.Bytes(), expected);
  carry.Subtract(one);
  EXPECT_EQ(carry.Bytes(), low_limb);
  IdSum zero;
  zero.Subtract(one);
  EXPECT_EQ(zero.Bytes(), ones);  // 0 - 1 wraps to 2^256 - 1
}

TEST(NegentropyCodec, ShortestBoundSeparatesNeighbours) {
  Item prev{10, IdHex("aabbcc0000000000000000000000000000000000000000000000000000000000")};
  Item next{10, IdHex("aabbdd0000000000000000000000000000000000000000000000000000000000")};
  Bound bound = Bound::Between(prev, next);
  EXPECT_EQ(bound.prefix_len, 3);
  EXPECT_FALSE(ItemBelow(next, bound));
  EXPECT_TRUE(ItemBelow(prev, bound));
  Item later{11, prev.id};
  Bound by_time = Bound::Between(prev, later);
  EXPECT_EQ(by_time.prefix_len, 0);
  EXPECT_EQ(by_time.timestamp, 11u);
}

TEST(NegentropyCodec, ParsesTheReferenceInitialMessageOfThreeItems) {
  // The authors' initiator over three items sends one IdList to infinity.
  std::string message = Unhex(
      "6100000203eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c39b91643"
      "2333e069a4386917609215cc688eb99f06fed01aadc29b1b4b92d6f0abc81d58ebe3b9a87100d47f58"
      "bf15e9b1cbf62d38623f11d0f0d17179f5f3ba");
  auto ranges = ParseRanges(std::string_view(message).substr(1), 16);
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  ASSERT_EQ(ranges->size(), 1u);
  EXPECT_TRUE((*ranges)[0].upper.is_infinity());
  EXPECT_EQ((*ranges)[0].mode, Mode::kIdList);
  EXPECT_EQ((*ranges)[0].ids.size(), 3u);
  // And the writer produces the same bytes.
  MessageWriter writer;
  writer.AppendBound(Bound::Infinity());
  writer.AppendMode(Mode::kIdList);
  writer.AppendIdCount(3);
  for (const ItemId& id : (*ranges)[0].ids) writer.AppendId(id);
  EXPECT_EQ(writer.bytes(), message);
}

TEST(NegentropyCodec, RejectsMalformedRangesWithReasons) {
  struct Case {
    const char* name;
    std::string body;
    const char* reason;
  };
  std::string ids(64, 'x');
  const Case cases[] = {
      {"truncated varint", Unhex("85"), "varint"},
      {"prefix too long", Unhex("0121") + std::string(33, 'a') + Unhex("00"), "prefix"},
      {"bound truncated", Unhex("0105aa"), "inside a bound"},
      {"unknown mode", Unhex("000004"), "unknown mode"},
      {"deprecated mode 3", Unhex("000003"), "mode 3"},
      {"fingerprint truncated", Unhex("000001") + "short", "fingerprint"},
      {"id list overclaims", Unhex("00000205") + ids, "claims 5 ids"},
      {"duplicate id", Unhex("00000202") + ids, "same id twice"},
      {"out of order", Unhex("0a016200") + Unhex("01016100"), "out of order"},
      {"after infinity", Unhex("000000") + Unhex("050000"), "after infinity"},
  };
  for (const Case& c : cases) {
    auto ranges = ParseRanges(c.body, 16);
    ASSERT_FALSE(ranges.ok()) << c.name;
    EXPECT_NE(std::string(ranges.status().message()).find(c.reason), std::string::npos)
        << c.name << ": " << ranges.status();
  }
  std::string many;
  for (int i = 0; i < 5; ++i) many += Unhex("0200") + Unhex("00");
  auto limited = ParseRanges(many, 4);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace lattice::kernel::sync
