// How lattice-fuse cuts file content into chunks and names them: lattice::Chunker (FastCDC)
// and BLAKE2b-256, so a chunk written here has the id every node computes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lattice::fuse {

// The length of the chunk that starts at data[0] (see lattice::Chunker::NextCut): never more
// than kFsChunkMaxBytes, data.size() when no cut falls before the end.
size_t NextCut(std::string_view data);

// BLAKE2b-256 of `data`, 32 raw bytes.
std::string HashChunk(std::string_view data);

bool AllZero(std::string_view data);

}  // namespace lattice::fuse
