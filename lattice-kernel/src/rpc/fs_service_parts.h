// What the two files of FsService share: fs_service.cc (the reads, and Change and
// ChangeAfter, through which every change goes) and fs_service_writes.cc (the calls that
// change the tree). Internal to the Fs service.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "lattice/v1/fs_service.pb.h"
#include "state/fs_reader.h"
#include "storage/chunk_store.h"
#include "store/store.h"

namespace lattice::kernel {

// The store's chunk store (fs stores keep one at <store dir>/chunks), or nullptr.
ChunkStore* ChunksOf(Store& store);
// What a call needing chunks answers on a store without them.
absl::Status NoChunks();
// The attributes of inode `ino` as the reader shows them: ENOENT when unknown.
absl::Status FillStatOf(const FsReader& reader, uint64_t ino, v1::FsStat* out);

}  // namespace lattice::kernel
