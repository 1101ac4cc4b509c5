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

std::string ChunkHash(std::string_view data) {
  InitCrypto();  // picks libsodium's fastest BLAKE2b for this CPU, once
  std::string hash(crypto_generichash_BYTES, '\0');  // 32 bytes: BLAKE2b-256
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), nullptr, 0);
  return hash;
}

}  // namespace lattice
