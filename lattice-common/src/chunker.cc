// FastCDC (Xia et al., "FastCDC: a Fast and Efficient Content-Defined Chunking Approach for
// Data Deduplication", USENIX ATC 2016) with normalized chunking at level 2, and the chunk id
// (BLAKE2b-256). Every node and every client must cut the same bytes at the same places, so
// the gear table, the masks and the rules below are part of the on-disk and wire format:
// changing any of them changes every chunk id of every file written afterwards.
#include "lattice/common/chunker.h"

#include <sodium.h>

#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_limits.h"

namespace lattice {
namespace {

// The gear table: 256 pseudo-random 64-bit values, one per byte value. Fixed for good as the
// outputs of SplitMix64 (Steele, Lea, Flood 2014) from the state 0x4c61747469636531
// ("Lattice1" in ASCII), entry i being the (i+1)-th output. Computed at compile time so it
// cannot drift from this description.
constexpr uint64_t kGearSeed = 0x4c61747469636531ull;

constexpr std::array<uint64_t, 256> MakeGearTable() {
  std::array<uint64_t, 256> table{};
  uint64_t state = kGearSeed;
  for (auto& entry : table) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    entry = z ^ (z >> 31);
  }
  return table;
}

constexpr std::array<uint64_t, 256> kGear = MakeGearTable();

// The rolling gear hash shifts left by one per byte, so its bit k depends on the last k+1
// bytes: the masks take the TOP bits, which depend on the last 64 bytes (the window).
constexpr uint64_t TopBits(unsigned bits) {
  if (bits == 0) return 0;
  if (bits >= 64) return ~0ull;
  return ~0ull << (64 - bits);
}

// log2 of the average, rounded to the nearest integer (64 KiB -> 16).
unsigned AverageBits(size_t avg) {
  unsigned floor_bits = static_cast<unsigned>(std::bit_width(avg)) - 1;
  size_t low = size_t{1} << floor_bits;
  return avg - low > low / 2 ? floor_bits + 1 : floor_bits;
}

}  // namespace

Chunker::Chunker()
    : Chunker(limits::kFsChunkMinBytes, limits::kFsChunkAvgBytes, limits::kFsChunkMaxBytes) {}

Chunker::Chunker(size_t min_bytes, size_t avg_bytes, size_t max_bytes)
    : min_(min_bytes), avg_(avg_bytes), max_(max_bytes) {
  // A programming error, never input: the sizes are constants of the format.
  if (min_ == 0 || min_ > avg_ || avg_ > max_) std::abort();
  // Normalized chunking, level 2: before the average a cut needs two more zero bits (rarer),
  // after it two fewer (likelier), which pulls chunk sizes towards the average.
  unsigned bits = AverageBits(avg_);
  mask_small_ = TopBits(bits + 2);
  mask_large_ = TopBits(bits >= 2 ? bits - 2 : 0);
}

size_t Chunker::NextCut(std::string_view data) const {
  size_t n = data.size();
  if (n <= min_) return n;
  if (n > max_) n = max_;
  size_t normal = avg_ < n ? avg_ : n;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  uint64_t hash = 0;
  // The bytes before the minimum are skipped: no cut can fall there, and the cut point then
  // depends only on content near it, which is what keeps an edit's effect local.
  size_t i = min_;
  for (; i < normal; ++i) {
    hash = (hash << 1) + kGear[bytes[i]];
    if ((hash & mask_small_) == 0) return i + 1;
  }
  for (; i < n; ++i) {
    hash = (hash << 1) + kGear[bytes[i]];
    if ((hash & mask_large_) == 0) return i + 1;
  }
  return n;
}

namespace {

// BLAKE2b (RFC 7693) with a 32-byte digest and no key, written out plainly: on the virtual
// machines Lattice was measured on, libsodium's AVX2 BLAKE2b (which sodium_init picks) hashes
// at about half the speed of this portable form, and every chunk written or read is hashed.
// ChunkHashMatchesLibsodium (chunker_test.cc) checks it against libsodium.
class PortableBlake2b256 {
 public:
  PortableBlake2b256() {
    h_ = kIv;
    h_[0] ^= 0x01010000u ^ 32u;  // depth 1, fanout 1, no key, 32-byte digest
  }

  std::string Digest(std::string_view data) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    size_t n = data.size();
    // Every block but the last is compressed as it comes; the last (1 to 128 bytes, or an
    // empty one for empty data) carries the final flag.
    while (n > kBlockBytes) {
      counter_ += kBlockBytes;
      Compress(bytes, false);
      bytes += kBlockBytes;
      n -= kBlockBytes;
    }
    unsigned char last[kBlockBytes] = {};
    if (n > 0) std::memcpy(last, bytes, n);
    counter_ += n;
    Compress(last, true);
    std::string out(32, '\0');
    for (size_t i = 0; i < 4; ++i) {
      for (size_t b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<char>(h_[i] >> (8 * b));
    }
    return out;
  }

 private:
  static constexpr size_t kBlockBytes = 128;
  static constexpr std::array<uint64_t, 8> kIv = {
      0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull,
      0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full,
      0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};
  static constexpr uint8_t kSigma[12][16] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
      {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
      {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
      {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
      {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
      {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
      {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
      {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
      {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
      {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
      {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

  static uint64_t Load64(const unsigned char* p) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | p[b];
    return v;
  }

  void Compress(const unsigned char* block, bool last) {
    uint64_t m[16];
    for (size_t i = 0; i < 16; ++i) m[i] = Load64(block + 8 * i);
    uint64_t v[16];
    for (size_t i = 0; i < 8; ++i) {
      v[i] = h_[i];
      v[i + 8] = kIv[i];
    }
    v[12] ^= counter_;  // the byte counter's high half stays 0: a chunk is far below 2^64
    if (last) v[14] = ~v[14];
    auto g = [&v](int a, int b, int c, int d, uint64_t x, uint64_t y) {
      v[a] = v[a] + v[b] + x;
      v[d] = std::rotr(v[d] ^ v[a], 32);
      v[c] = v[c] + v[d];
      v[b] = std::rotr(v[b] ^ v[c], 24);
      v[a] = v[a] + v[b] + y;
      v[d] = std::rotr(v[d] ^ v[a], 16);
      v[c] = v[c] + v[d];
      v[b] = std::rotr(v[b] ^ v[c], 63);
    };
    for (const auto& s : kSigma) {
      g(0, 4, 8, 12, m[s[0]], m[s[1]]);
      g(1, 5, 9, 13, m[s[2]], m[s[3]]);
      g(2, 6, 10, 14, m[s[4]], m[s[5]]);
      g(3, 7, 11, 15, m[s[6]], m[s[7]]);
      g(0, 5, 10, 15, m[s[8]], m[s[9]]);
      g(1, 6, 11, 12, m[s[10]], m[s[11]]);
      g(2, 7, 8, 13, m[s[12]], m[s[13]]);
      g(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (size_t i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
  }

  std::array<uint64_t, 8> h_;
  uint64_t counter_ = 0;
};

}  // namespace

std::string ChunkHash(std::string_view data) { return PortableBlake2b256().Digest(data); }

}  // namespace lattice
