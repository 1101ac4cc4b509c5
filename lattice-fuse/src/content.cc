#include "src/content.h"

#include <algorithm>
#include <cstring>

#include "lattice/common/chunker.h"
#include "lattice/common/fs_limits.h"

namespace lattice::fuse {

size_t NextCut(std::string_view data) {
  static const Chunker chunker;
  return chunker.NextCut(data);
}

std::string HashChunk(std::string_view data) { return ChunkHash(data); }

bool AllZero(std::string_view data) {
  static const char kZeros[4096] = {};
  while (!data.empty()) {
    size_t n = std::min(data.size(), sizeof kZeros);
    if (std::memcmp(data.data(), kZeros, n) != 0) return false;
    data.remove_prefix(n);
  }
  return true;
}

}  // namespace lattice::fuse
