// Content-defined chunking (FastCDC, Xia et al. 2016, with normalized chunking): cuts a byte
// stream where its content says, so an insertion or a change moves only the chunk boundaries
// around it and every other chunk keeps its hash. Sizes from fs_limits.h (16 / 64 / 256 KiB).
// Used where file content is written (lattice-fuse, lattice-ctl fs put) and by the kernel to
// check nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lattice {

class Chunker {
 public:
  Chunker();
  Chunker(size_t min_bytes, size_t avg_bytes, size_t max_bytes);

  // The length of the chunk that starts at data[0]: where FastCDC cuts, or data.size() when
  // no cut falls before the end and data.size() <= max (the caller then decides whether more
  // data follows). Never more than max, never 0 for non-empty data.
  size_t NextCut(std::string_view data) const;

 private:
  size_t min_;
  size_t avg_;
  size_t max_;
  uint64_t mask_small_;
  uint64_t mask_large_;
};

// BLAKE2b-256 of a chunk's bytes: its id.
std::string ChunkHash(std::string_view data);

}  // namespace lattice
