#include "src/content.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "lattice/common/fs_limits.h"
#ifdef LATTICE_FUSE_HAVE_CHUNKER
#include "lattice/common/chunker.h"
#endif

namespace lattice::fuse {

size_t NextCut(std::string_view data) {
#ifdef LATTICE_FUSE_HAVE_CHUNKER
  static const Chunker chunker;
  return chunker.NextCut(data);
#else
  // Fixed-size chunks until the content-defined chunker is part of lattice-common.
  return std::min(data.size(), limits::kFsChunkAvgBytes);
#endif
}

std::string HashChunk(std::string_view data) {
#ifdef LATTICE_FUSE_HAVE_CHUNKER
  return ChunkHash(data);
#else
  std::string hash(crypto_generichash_BYTES, '\0');
  static_assert(crypto_generichash_BYTES == 32);
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), nullptr,
                     0);
  return hash;
#endif
}

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
