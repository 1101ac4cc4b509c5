#include "rpc/fs_content.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "rpc/fs_layout_cache.h"

namespace lattice::kernel {
namespace {

constexpr size_t kHashBytes = 32;

absl::Status CheckHash(std::string_view hash, size_t index) {
  if (hash.size() == kHashBytes) return absl::OkStatus();
  return FsError(EINVAL, fmt::format("hash {} has {} bytes; a chunk hash (BLAKE2b-256) has {}",
                                     index, hash.size(), kHashBytes));
}

// The inode of a read (ENOENT when unknown; unlinked files stay readable while open).
absl::StatusOr<FsInode> ReadableInode(const FsReader& reader, uint64_t ino) {
  if (ino == 0 || ino == kFsTrashId || IsFsOpRef(ino)) return FsError(ENOENT, fmt::format("no inode {}", ino));
  auto inode = reader.Inode(ino);
  if (!inode.ok()) return inode.status();
  if (!inode->has_value()) return FsError(ENOENT, fmt::format("no inode {}", ino));
  return **std::move(inode);
}

// The version a read names: `id`, or the winner when empty (nullopt: no content yet).
absl::StatusOr<std::optional<v1::FsVersion>> VersionOf(const FsReader& reader, const FsInode& inode,
                                                       const std::string& id) {
  if (S_ISDIR(inode.attr.mode())) return FsError(EISDIR, fmt::format("inode {} is a directory", inode.id));
  if (!S_ISREG(inode.attr.mode())) {
    return FsError(EINVAL, fmt::format("inode {} is not a regular file", inode.id));
  }
  if (id.empty()) return inode.winner;
  if (inode.winner && inode.winner->id() == id) return inode.winner;
  auto version = reader.Version(inode.id, id);
  if (!version.ok()) return version.status();
  if (!version->has_value()) {
    return FsError(ENOENT, fmt::format("inode {} has no version {}", inode.id, ToHex(id)));
  }
  return *version;
}

}  // namespace

void FillFsStat(const FsInode& inode, v1::FsStat* out) {
  out->set_ino(inode.id);
  *out->mutable_attr() = inode.attr;
  out->set_size(S_ISLNK(inode.attr.mode()) ? inode.symlink_target.size() : inode.size);
  out->set_nlink(inode.nlink);
  out->set_blocks(inode.blocks);
  out->set_generation(0);
  if (inode.winner) out->set_version(inode.winner->id());
}

absl::Status FsMissingChunks(const ChunkStore& chunks, const v1::FsMissingChunksRequest& request,
                             v1::FsMissingChunksResponse* response) {
  if (static_cast<size_t>(request.hashes_size()) > limits::kMaxFsHashesPerCall) {
    return absl::ResourceExhaustedError(fmt::format(
        "a MissingChunks call asks after at most {} hashes; this one has {}",
        limits::kMaxFsHashesPerCall, request.hashes_size()));
  }
  std::vector<std::string> hashes;
  hashes.reserve(request.hashes_size());
  for (int i = 0; i < request.hashes_size(); ++i) {
    if (auto s = CheckHash(request.hashes(i), i); !s.ok()) return s;
    hashes.push_back(request.hashes(i));
  }
  auto missing = chunks.Missing(hashes);
  if (!missing.ok()) return missing.status();
  for (auto& hash : *missing) response->add_missing(std::move(hash));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> FsStoreChunks(ChunkStore& chunks,
                                       const google::protobuf::RepeatedPtrField<v1::FsChunk>& sent) {
  if (static_cast<size_t>(sent.size()) > limits::kMaxFsChunksPerCall) {
    return absl::ResourceExhaustedError(fmt::format(
        "a call carries at most {} chunks; this one has {}", limits::kMaxFsChunksPerCall,
        sent.size()));
  }
  size_t bytes = 0;
  for (int i = 0; i < sent.size(); ++i) {
    const auto& chunk = sent.Get(i);
    if (auto s = CheckHash(chunk.hash(), i); !s.ok()) return s;
    if (chunk.data().empty() || chunk.data().size() > limits::kFsChunkMaxBytes) {
      return FsError(EINVAL, fmt::format("chunk {} has {} bytes; a chunk has 1 to {}", i,
                                         chunk.data().size(), limits::kFsChunkMaxBytes));
    }
    bytes += chunk.data().size();
  }
  if (bytes > limits::kMaxFsPutChunksBytes) {
    return absl::ResourceExhaustedError(fmt::format(
        "a call carries at most {} bytes of chunks; this one has {}",
        limits::kMaxFsPutChunksBytes, bytes));
  }
  uint64_t stored = 0;
  for (int i = 0; i < sent.size(); ++i) {
    const auto& chunk = sent.Get(i);
    auto added = chunks.Put(chunk.hash(), chunk.data());
    if (!added.ok()) {
      if (absl::IsInvalidArgument(added.status())) {
        return FsError(EINVAL, fmt::format("chunk {}'s data does not match its hash {}", i,
                                           ToHex(chunk.hash())));
      }
      if (absl::IsResourceExhausted(added.status())) {
        return FsError(ENOSPC, std::string(added.status().message()));
      }
      return added.status();
    }
    if (*added) ++stored;
  }
  // Made durable with the commit that cites them (the store syncs its chunks first).
  return stored;
}

absl::Status FsPutChunks(ChunkStore& chunks, const v1::FsPutChunksRequest& request,
                         v1::FsPutChunksResponse* response) {
  auto stored = FsStoreChunks(chunks, request.chunks());
  if (!stored.ok()) return stored.status();
  response->set_stored(*stored);
  return absl::OkStatus();
}

absl::Status FsRead(const FsReader& reader, const ChunkStore& chunks,
                    const v1::FsReadRequest& request, v1::FsReadResponse* response) {
  if (request.length() > limits::kMaxFsReadBytes) {
    return absl::ResourceExhaustedError(fmt::format(
        "a Read returns at most {} bytes; this one asks for {}", limits::kMaxFsReadBytes,
        request.length()));
  }
  FsLayoutCache& cache = FsLayoutCache::Shared();
  // A version named by id that a read of this store found before is known to exist, with
  // its inode (neither is ever deleted): no need to load either again.
  std::shared_ptr<const FsVersionLayout> layout;
  if (!request.version().empty()) layout = cache.Find(&chunks, request.ino(), request.version());
  if (layout == nullptr) {
    auto inode = ReadableInode(reader, request.ino());
    if (!inode.ok()) return inode.status();
    auto version = VersionOf(reader, *inode, request.version());
    if (!version.ok()) return version.status();
    if (!version->has_value()) return absl::OkStatus();  // no content yet: an empty file
    layout = cache.Add(&chunks, request.ino(), **version);
  }
  response->set_version(layout->id());
  uint64_t size = layout->size();
  if (request.offset() >= size || request.length() == 0) return absl::OkStatus();
  uint64_t end = std::min<uint64_t>(size, request.offset() + request.length());
  std::string data;
  data.reserve(end - request.offset());
  for (size_t i = layout->ExtentAt(request.offset());
       i < layout->extent_count() && layout->Begin(i) < end; ++i) {
    uint64_t at = layout->Begin(i);
    uint64_t from = std::max(at, request.offset()) - at;
    uint64_t to = std::min(layout->End(i), end) - at;
    std::string_view hash = layout->Hash(i);
    if (hash.empty()) {
      data.append(to - from, '\0');
      continue;
    }
    auto bytes = chunks.Read(hash, from, to - from);
    if (!bytes.ok()) {
      if (absl::IsNotFound(bytes.status()) || absl::IsDataLoss(bytes.status())) {
        return FsError(EIO, fmt::format(
            "chunk {} of inode {} is not on this node yet (it is fetched from the peers that "
            "hold it); try again shortly",
            ToHex(hash), request.ino()));
      }
      return bytes.status();
    }
    if (bytes->size() != to - from) {
      return FsError(EIO, fmt::format("chunk {} of inode {} is shorter than its extent",
                                      ToHex(hash), request.ino()));
    }
    data.append(*bytes);
  }
  // Extents that end before the size (never written so) read as a hole.
  if (data.size() < end - request.offset()) data.append(end - request.offset() - data.size(), '\0');
  response->set_data(std::move(data));
  return absl::OkStatus();
}

absl::Status FsLayout(const FsReader& reader, const v1::FsLayoutRequest& request,
                      v1::FsLayoutResponse* response) {
  auto inode = ReadableInode(reader, request.ino());
  if (!inode.ok()) return inode.status();
  auto version = VersionOf(reader, *inode, request.version());
  if (!version.ok()) return version.status();
  if (!version->has_value()) return absl::OkStatus();
  response->set_version((*version)->id());
  response->set_size((*version)->size());
  *response->mutable_extents() = (*version)->extents();
  return absl::OkStatus();
}

absl::Status FsCheckChunksPresent(const ChunkStore& chunks,
                                  const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents) {
  std::vector<std::string> hashes;
  for (const auto& extent : extents) {
    if (!extent.hash().empty()) hashes.push_back(extent.hash());
    if (hashes.size() >= limits::kMaxFsHashesPerCall) {
      auto missing = chunks.Missing(hashes);
      if (!missing.ok()) return missing.status();
      if (!missing->empty()) {
        return FsError(EINVAL, fmt::format("chunk {} was never uploaded; PutChunks it before the commit",
                                           ToHex(missing->front())));
      }
      hashes.clear();
    }
  }
  auto missing = chunks.Missing(hashes);
  if (!missing.ok()) return missing.status();
  if (!missing->empty()) {
    return FsError(EINVAL, fmt::format("chunk {} was never uploaded; PutChunks it before the commit",
                                       ToHex(missing->front())));
  }
  return absl::OkStatus();
}

absl::Status FsPrepareCut(const FsReader& reader, ChunkStore& chunks, uint64_t ino, uint64_t size,
                          FsCutChunks* cut) {
  auto inode = reader.Inode(ino);
  if (!inode.ok()) return inode.status();
  if (!inode->has_value() || !(*inode)->winner) return absl::OkStatus();  // the planner decides
  auto needed = FsCutNeeded((*inode)->winner->extents(), size);
  if (!needed) return absl::OkStatus();
  auto prefix = chunks.Read(needed->first, 0, needed->second);
  if (!prefix.ok()) {
    if (absl::IsNotFound(prefix.status())) {
      return FsError(EIO, fmt::format("chunk {} of inode {} is not on this node yet; truncate "
                                      "again once it is fetched",
                                      ToHex(needed->first), ino));
    }
    return prefix.status();
  }
  std::string hash = Blake2b256(*prefix);
  auto put = chunks.Put(hash, *prefix);
  if (!put.ok()) return put.status();
  (*cut)[*needed] = std::move(hash);
  return absl::OkStatus();
}

}  // namespace lattice::kernel
