// The content half of the Fs service: chunks uploaded and asked after, byte ranges read from
// a version's extents (holes read as zeros), a version's layout, and what a truncate or a
// commit needs from the chunk store before it is planned.
#pragma once

#include "absl/status/status.h"
#include "lattice/v1/fs_service.pb.h"
#include "rpc/fs_planner.h"
#include "state/fs_reader.h"
#include "storage/chunk_store.h"

namespace lattice::kernel {

// struct stat's view of an inode.
void FillFsStat(const FsInode& inode, v1::FsStat* out);

absl::Status FsMissingChunks(const ChunkStore& chunks, const v1::FsMissingChunksRequest& request,
                             v1::FsMissingChunksResponse* response);
// Checks every chunk against its hash and the limits and stores them; they are made durable
// with the commit that cites them (the store syncs its chunk store before its log).
absl::Status FsPutChunks(ChunkStore& chunks, const v1::FsPutChunksRequest& request,
                         v1::FsPutChunksResponse* response);
// Checks and stores `sent` (from a PutChunks or a Commit); returns how many were new.
absl::StatusOr<uint64_t> FsStoreChunks(ChunkStore& chunks,
                                       const google::protobuf::RepeatedPtrField<v1::FsChunk>& sent);
absl::Status FsRead(const FsReader& reader, const ChunkStore& chunks,
                    const v1::FsReadRequest& request, v1::FsReadResponse* response);
absl::Status FsLayout(const FsReader& reader, const v1::FsLayoutRequest& request,
                      v1::FsLayoutResponse* response);
// EINVAL naming the first chunk of `extents` the store lacks: a commit cites only chunks
// that were uploaded.
absl::Status FsCheckChunksPresent(const ChunkStore& chunks,
                                  const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents);
// For a truncate of `ino` to `size` that cuts inside a chunk of its content: stores that
// chunk's prefix as a chunk of its own and records it in `cut`.
absl::Status FsPrepareCut(const FsReader& reader, ChunkStore& chunks, uint64_t ino, uint64_t size,
                          FsCutChunks* cut);

}  // namespace lattice::kernel
