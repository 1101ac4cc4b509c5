// The chunker cuts where the content says, within its bounds, the same way everywhere, and an
// edit moves only the cuts around it; a chunk's id is its BLAKE2b-256.
#include "lattice/common/chunker.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"

namespace lattice {
namespace {

using limits::kFsChunkAvgBytes;
using limits::kFsChunkMaxBytes;
using limits::kFsChunkMinBytes;

// The first eight chunk lengths of PseudoRandom(4 MiB, 4).
constexpr const char* kPinnedLengths = "68065 82245 77656 82467 87460 71308 71592 69717 ";

std::string PseudoRandom(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t state = seed;
  for (size_t i = 0; i < size; i += 8) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t v = state ^ (state >> 29);
    for (size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

// The whole of `data` cut into chunks, as the writers do: the last one is what is left.
std::vector<std::string> Chunks(const Chunker& chunker, std::string_view data) {
  std::vector<std::string> chunks;
  while (!data.empty()) {
    size_t cut = chunker.NextCut(data);
    chunks.emplace_back(data.substr(0, cut));
    data.remove_prefix(cut);
  }
  return chunks;
}

std::multiset<std::string> Hashes(const std::vector<std::string>& chunks) {
  std::multiset<std::string> hashes;
  for (const auto& chunk : chunks) hashes.insert(ChunkHash(chunk));
  return hashes;
}

// How many chunks of `after` are not chunks of `before`.
size_t NewChunks(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  auto known = Hashes(before);
  size_t fresh = 0;
  for (const auto& chunk : after) fresh += known.count(ChunkHash(chunk)) == 0;
  return fresh;
}

TEST(ChunkHash, MatchesLibsodium) {
  std::string data(4 * 65536 + 77, '\0');
  uint64_t x = 88172645463325252ull;
  for (auto& c : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 300; ++n) sizes.push_back(n);
  for (size_t n : {1023u, 1024u, 1025u, 65535u, 65536u, 65537u, 262144u}) sizes.push_back(n);
  sizes.push_back(data.size());
  for (size_t n : sizes) {
    std::string want(32, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(want.data()), want.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), n, nullptr, 0);
    ASSERT_EQ(ToHex(ChunkHash(std::string_view(data).substr(0, n))), ToHex(want)) << n;
  }
}

TEST(ChunkHash, IsBlake2b256) {
  EXPECT_EQ(ToHex(ChunkHash("")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(ToHex(ChunkHash("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Chunker, ShortInputIsOneChunk) {
  Chunker chunker;
  EXPECT_EQ(chunker.NextCut(""), 0u);
  EXPECT_EQ(chunker.NextCut("x"), 1u);
  std::string data = PseudoRandom(kFsChunkMinBytes, 1);
  EXPECT_EQ(chunker.NextCut(data), data.size());
}

TEST(Chunker, CutsStayWithinBounds) {
  Chunker chunker;
  std::string data = PseudoRandom(16 << 20, 2);
  auto chunks = Chunks(chunker, data);
  ASSERT_GT(chunks.size(), 1u);
  size_t total = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    total += chunks[i].size();
    EXPECT_LE(chunks[i].size(), kFsChunkMaxBytes);
    if (i + 1 < chunks.size()) {
      EXPECT_GT(chunks[i].size(), kFsChunkMinBytes) << "chunk " << i;
    }
  }
  EXPECT_EQ(total, data.size());
  // Normalized chunking keeps the mean near the average on random data.
  double mean = static_cast<double>(data.size()) / static_cast<double>(chunks.size());
  EXPECT_GT(mean, kFsChunkAvgBytes / 2.0);
  EXPECT_LT(mean, kFsChunkAvgBytes * 2.0);
}

TEST(Chunker, UniformDataIsCutAtTheMaximumOrByItsPeriod) {
  Chunker chunker;
  std::string zeros(2 << 20, '\0');
  for (const auto& chunk : Chunks(chunker, zeros)) {
    EXPECT_LE(chunk.size(), kFsChunkMaxBytes);
    EXPECT_GT(chunk.size(), 0u);
  }
}

TEST(Chunker, NeverCutsPastTheMaximum) {
  Chunker chunker;
  std::string data = PseudoRandom(kFsChunkMaxBytes * 3, 3);
  for (size_t len : {kFsChunkMinBytes + 1, kFsChunkAvgBytes, kFsChunkMaxBytes,
                     kFsChunkMaxBytes + 1, data.size()}) {
    size_t cut = chunker.NextCut(std::string_view(data).substr(0, len));
    EXPECT_GT(cut, 0u);
    EXPECT_LE(cut, std::min(len, kFsChunkMaxBytes));
  }
}

TEST(Chunker, CutsAreDeterministicAndPinned) {
  // The cut points are part of the format: every node and client must agree on them, so a
  // change to the gear table or the masks must fail here.
  Chunker chunker;
  std::string data = PseudoRandom(4 << 20, 4);
  auto first = Chunks(chunker, data);
  auto second = Chunks(Chunker(), data);
  ASSERT_EQ(first.size(), second.size());
  std::string lengths;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i], second[i]);
    if (i < 8) lengths += std::to_string(first[i].size()) + " ";
  }
  EXPECT_EQ(lengths, kPinnedLengths);
}

TEST(Chunker, CutDependsOnlyOnTheChunkItself) {
  // Cutting a chunk alone gives the same cut as cutting it inside the stream: what a writer
  // that sees a file piece by piece relies on.
  Chunker chunker;
  std::string data = PseudoRandom(2 << 20, 5);
  for (const auto& chunk : Chunks(chunker, data)) {
    EXPECT_EQ(chunker.NextCut(chunk), chunk.size());
  }
}

TEST(Chunker, InsertionNearTheStartChangesOnlyTheChunksAroundIt) {
  Chunker chunker;
  std::string data = PseudoRandom(8 << 20, 6);
  auto before = Chunks(chunker, data);
  std::string edited = data;
  edited.insert(1000, PseudoRandom(64 * 1024, 7));
  auto after = Chunks(chunker, edited);
  // The inserted 64 KiB spans about one or two chunks, and the cut after it resynchronises.
  EXPECT_LE(NewChunks(before, after), 4u);
}

TEST(Chunker, ChangeInTheMiddleChangesOnlyTheChunksAroundIt) {
  Chunker chunker;
  std::string data = PseudoRandom(16 << 20, 8);
  auto before = Chunks(chunker, data);
  std::string edited = data;
  std::string change = PseudoRandom(1 << 20, 9);
  edited.replace(8 << 20, change.size(), change);
  auto after = Chunks(chunker, edited);
  size_t fresh = NewChunks(before, after);
  // 1 MiB is about 16 average chunks, plus the two it straddles.
  EXPECT_LE(fresh, 1u + (1u << 20) / kFsChunkMinBytes);
  size_t fresh_bytes = 0;
  auto known = Hashes(before);
  for (const auto& chunk : after) {
    if (known.count(ChunkHash(chunk)) == 0) fresh_bytes += chunk.size();
  }
  EXPECT_LE(fresh_bytes, (1u << 20) + 2 * kFsChunkMaxBytes);
}

TEST(Chunker, DeletionChangesOnlyTheChunksAroundIt) {
  Chunker chunker;
  std::string data = PseudoRandom(8 << 20, 10);
  auto before = Chunks(chunker, data);
  std::string edited = data;
  edited.erase(3 << 20, 100);
  EXPECT_LE(NewChunks(before, Chunks(chunker, edited)), 3u);
}

TEST(Chunker, SmallerParametersKeepTheirBounds) {
  Chunker chunker(64, 256, 1024);
  std::string data = PseudoRandom(1 << 20, 11);
  auto chunks = Chunks(chunker, data);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_GT(chunks[i].size(), 64u);
    EXPECT_LE(chunks[i].size(), 1024u);
  }
}

}  // namespace
}  // namespace lattice
