// libFuzzer target: the chunker on arbitrary bytes (a client may hand the kernel any file).
// Checks the cut invariants every writer and reader relies on: a cut is never 0 for non-empty
// data and never past the maximum or the end, never before the minimum unless the data ends
// there, the chunk cut alone is cut at its end, and bytes after a cut never move it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lattice/common/chunker.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

void CheckChunking(const lattice::Chunker& chunker, size_t min, size_t max,
                   std::string_view data) {
  size_t total = 0;
  std::string_view rest = data;
  while (!rest.empty()) {
    size_t cut = chunker.NextCut(rest);
    Require(cut > 0);
    Require(cut <= rest.size() && cut <= max);
    if (rest.size() > min) Require(cut > min);
    // Cut alone, the chunk ends where it was cut.
    Require(chunker.NextCut(rest.substr(0, cut)) == cut);
    // A cut that content chose (before the end and the maximum) ignores what follows.
    if (cut < rest.size() && cut < max) {
      std::string longer(rest.substr(0, cut + 1));
      longer.push_back('\x5a');
      Require(chunker.NextCut(longer) == cut);
    }
    total += cut;
    rest.remove_prefix(cut);
  }
  Require(total == data.size());
  Require(chunker.NextCut(std::string_view()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Small sizes so short inputs reach every branch; the real ones for the format.
  static const lattice::Chunker small(8, 32, 128);
  static const lattice::Chunker tiny(1, 1, 2);
  static const lattice::Chunker standard;
  CheckChunking(small, 8, 128, bytes);
  CheckChunking(tiny, 1, 2, bytes);
  CheckChunking(standard, 16 * 1024, 256 * 1024, bytes);
  Require(lattice::ChunkHash(bytes).size() == 32);
  return 0;
}
