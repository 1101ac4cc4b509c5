// The chunk store: append-only pack files of chunk records, and an in-memory index rebuilt at
// Open by walking the records' headers.
//
// A pack (<dir>/packs/NNNNNN.pack, NNNNNN from 000001 up) is a sequence of records:
//   magic   4 bytes  "LCK1" (a chunk) or "LCKX" (a tombstone: the chunk was found corrupt)
//   length  4 bytes  little-endian, the data's length (0 for a tombstone)
//   hash   32 bytes  BLAKE2b-256 of the data
//   data   length bytes
//   check   4 bytes  little-endian, FNV-1a of magic, length and hash (folded to 32 bits)
// A record is whole only when its check is there and right, so a write cut short by a crash
// or a full disk ends the pack's readable part. The data itself is covered by its hash, which
// Read checks every time and Open checks for the newest pack (the only one that can hold
// writes that were never synced; older packs were synced when they were closed).
//
// Garbage collection (Collect) forgets chunks from the index and compacts packs: the live
// records of a mostly dead pack are appended again to the newest pack, which is synced, and
// only then is the old pack deleted. A chunk may so be in two packs for a while (a crash
// between the copy and the delete); Open takes the LAST whole record of a chunk, which is
// then the copy (the two hold the same bytes anyway, and a copy is only ever made of a
// chunk whose bytes matched its hash). A tombstone is carried into the copy while the
// chunk it names is absent, so a damaged record in an older pack stays dead.
//
// Why no on-disk index: the packs are the one source of truth, so there is nothing to keep
// consistent across a crash and a torn tail is handled in one place. Open reads 40 bytes per
// chunk (about 0.06% of the data) plus the newest pack whole; the index costs about 100 bytes
// of memory per chunk (about 1.6 GB per TiB of 64 KiB chunks). A store past that would want
// an index file written beside each pack as it is closed.
#include "storage/chunk_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <unordered_set>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lattice/common/chunker.h"
#include "lattice/common/files.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"

#include "storage/chunk_pack_format.h"
#include "storage/chunk_store_impl.h"

namespace lattice::kernel {

using namespace chunk_pack;


absl::StatusOr<uint64_t> ChunkStore::Impl::Scan(uint32_t number, bool verify_data) {
  std::string path = PackPath(number);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return ErrnoStatus(errno, "open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat " + path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t offset = 0;
  while (offset + kHeaderBytes + kTrailerBytes <= size) {
    LATTICE_ASSIGN_OR_RETURN(std::string header, PreadUpTo(fd.get(), offset, kHeaderBytes, path));
    if (header.size() < kHeaderBytes) break;
    bool chunk = std::memcmp(header.data(), kChunkMagic, 4) == 0;
    bool tombstone = std::memcmp(header.data(), kTombstoneMagic, 4) == 0;
    if (!chunk && !tombstone) break;
    uint32_t length = GetU32(header.data() + 4);
    if (length > limits::kFsChunkMaxBytes) break;
    uint64_t end = offset + kHeaderBytes + length + kTrailerBytes;
    if (end > size) break;
    LATTICE_ASSIGN_OR_RETURN(std::string trailer,
                             PreadUpTo(fd.get(), end - kTrailerBytes, kTrailerBytes, path));
    if (trailer.size() < kTrailerBytes || GetU32(trailer.data()) != HeaderCheck(header)) break;
    std::string hash = header.substr(8, kHashBytes);
    if (tombstone) {
      auto it = index.find(hash);
      if (it != index.end()) {
        bytes -= it->second.length;
        index.erase(it);
      }
    } else {
      bool keep = true;
      if (verify_data) {
        LATTICE_ASSIGN_OR_RETURN(std::string data,
                                 PreadUpTo(fd.get(), offset + kHeaderBytes, length, path));
        // A whole record whose bytes do not match (never synced before a crash, or damaged)
        // is skipped, not indexed: it is fetched again from a peer when something cites it.
        keep = data.size() == length && ChunkHash(data) == hash;
        if (!keep) {
          spdlog::warn("chunk store {}: chunk {} in {} does not match its hash; ignored", dir,
                       ShortHex(hash), PackName(number));
        }
      }
      // The last whole record of a chunk wins: a compaction's copy over its original.
      if (keep) {
        auto [it, added] = index.try_emplace(hash);
        it->second = Location{number, offset + kHeaderBytes, length, 0};
        if (added) bytes += length;
      }
    }
    offset = end;
  }
  if (offset < size) {
    spdlog::warn("chunk store {}: {} ends in {} bytes of an incomplete record (a write cut "
                 "short); they are ignored",
                 dir, PackName(number), size - offset);
  }
  return offset;
}

absl::Status ChunkStore::Impl::OpenActive(uint32_t number, uint64_t size) {
  std::string path = PackPath(number);
  bool existed = ::access(path.c_str(), F_OK) == 0;
  int raw = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (raw < 0) return ErrnoStatus(errno, "open " + path);
  auto fd = std::make_shared<Fd>(raw);
  // Cut off a torn tail so new records follow whole ones (a reopen would stop at the tear).
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return ErrnoStatus(errno, "stat " + path);
  if (static_cast<uint64_t>(st.st_size) != size && ::ftruncate(fd->get(), static_cast<off_t>(size)) != 0) {
    return ErrnoStatus(errno, "truncate " + path);
  }
  active_pack = number;
  active_fd = std::move(fd);
  active_size = size;
  if (!existed) dir_dirty = true;
  return absl::OkStatus();
}

absl::StatusOr<ChunkStore::Impl::Location> ChunkStore::Impl::Append(const char magic[4],
                                                                     std::string_view hash,
                                                                     std::string_view data) {
  if (active_fd == nullptr || (active_size > 0 && active_size + data.size() > options.pack_bytes)) {
    if (active_fd != nullptr) {
      // A closed pack is never written again: make it durable now, so only the newest pack
      // can hold unsynced records.
      if (::fdatasync(active_fd->get()) != 0) {
        return ErrnoStatus(errno, "sync " + PackPath(active_pack));
      }
    }
    LATTICE_RETURN_IF_ERROR(OpenActive(active_pack + 1, 0));
  }
  std::string record = EncodeRecord(magic, hash, data);
  int injected = options.inject_write_error ? options.inject_write_error() : 0;
  size_t to_write = injected != 0 ? record.size() / 2 : record.size();
  size_t done = 0;
  int err = 0;
  while (done < to_write) {
    ssize_t n = ::pwrite(active_fd->get(), record.data() + done, to_write - done,
                         static_cast<off_t>(active_size + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && injected != 0) err = injected;
  if (err != 0) {
    // Nothing partial may stay where the next record goes, nor be read back after a restart.
    if (::ftruncate(active_fd->get(), static_cast<off_t>(active_size)) != 0) {
      // The pack ends in garbage now: leave it and start a new one next time.
      spdlog::warn("chunk store {}: {} could not be cut back after a failed write; starting "
                   "a new pack",
                   dir, PackName(active_pack));
      (void)::fdatasync(active_fd->get());
      active_size = options.pack_bytes;
    }
    return ErrnoStatus(err, fmt::format("write chunk {} to {}", ShortHex(hash),
                                        PackPath(active_pack)));
  }
  Location location{active_pack, active_size + kHeaderBytes, static_cast<uint32_t>(data.size())};
  active_size += record.size();
  dirty = true;
  return location;
}

void ChunkStore::Impl::Drop(const std::string& hash, const Location& where) {
  std::lock_guard lock(mu);
  auto it = index.find(hash);
  if (it == index.end() || !(it->second == where)) return;
  bytes -= it->second.length;
  index.erase(it);
  auto written = Append(kTombstoneMagic, hash, {});
  if (!written.ok()) {
    // The chunk is dropped for this run anyway; after a restart a read finds it bad again.
    spdlog::warn("chunk store {}: recording that chunk {} is corrupt failed: {}", dir,
                 ShortHex(hash), written.status().message());
  }
}

absl::StatusOr<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& dir) {
  return Open(dir, Options());
}

absl::StatusOr<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& dir,
                                                             Options options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->packs_dir = dir + "/packs";
  impl->options = std::move(options);
  LATTICE_RETURN_IF_ERROR(MakeDirsDurable(impl->packs_dir, 0700));
  LATTICE_RETURN_IF_ERROR(CheckPrivateDirectory(impl->packs_dir, "the chunk store"));

  std::vector<uint32_t> packs;
  {
    DIR* d = ::opendir(impl->packs_dir.c_str());
    if (d == nullptr) return ErrnoStatus(errno, "list " + impl->packs_dir);
    while (dirent* entry = ::readdir(d)) {
      if (auto number = PackNumberOf(entry->d_name)) packs.push_back(*number);
    }
    ::closedir(d);
  }
  std::sort(packs.begin(), packs.end());
  uint64_t last_end = 0;
  for (size_t i = 0; i < packs.size(); ++i) {
    bool newest = i + 1 == packs.size();
    LATTICE_ASSIGN_OR_RETURN(uint64_t end, impl->Scan(packs[i], /*verify_data=*/newest));
    if (newest) last_end = end;
  }
  if (!packs.empty()) {
    std::lock_guard lock(impl->mu);
    LATTICE_RETURN_IF_ERROR(impl->OpenActive(packs.back(), last_end));
  }
  return std::unique_ptr<ChunkStore>(new ChunkStore(std::move(impl)));
}

ChunkStore::ChunkStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ChunkStore::~ChunkStore() = default;

absl::StatusOr<bool> ChunkStore::Put(std::string_view hash, std::string_view data) {
  if (hash.size() != kHashBytes) {
    return absl::InvalidArgumentError(fmt::format("a chunk hash of {} bytes, not {}", hash.size(), kHashBytes));
  }
  if (data.size() > limits::kFsChunkMaxBytes) {
    return LimitExceeded("chunk", data.size(), limits::kFsChunkMaxBytes);
  }
  if (ChunkHash(data) != hash) {
    return absl::InvalidArgumentError(
        fmt::format("chunk {}: its {} bytes do not match its hash", ShortHex(hash), data.size()));
  }
  std::lock_guard lock(impl_->mu);
  std::string key(hash);
  uint64_t now = impl_->NowMs();
  if (auto it = impl_->index.find(key); it != impl_->index.end()) {
    it->second.touched_ms = now;
    return false;
  }
  if (impl_->options.min_free_bytes > 0) {
    struct statvfs fs {};
    if (::statvfs(impl_->packs_dir.c_str(), &fs) == 0) {
      uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      if (free_bytes < impl_->options.min_free_bytes + data.size()) {
        return absl::ResourceExhaustedError(fmt::format(
            "the disk holding {} is full: {} bytes free, chunks need at least {}",
            impl_->dir, free_bytes, impl_->options.min_free_bytes));
      }
    }
  }
  LATTICE_ASSIGN_OR_RETURN(auto location, impl_->Append(kChunkMagic, hash, data));
  location.touched_ms = now;
  location.checked_at = impl_->Now();
  impl_->index.emplace(std::move(key), location);
  impl_->bytes += data.size();
  return true;
}

absl::StatusOr<bool> ChunkStore::Has(std::string_view hash) const {
  std::lock_guard lock(impl_->mu);
  // A present chunk is touched; an absent one is not remembered (the fetcher asks after its
  // wants this way every sweep: that must not keep a want from being dropped).
  auto it = impl_->index.find(std::string(hash));
  if (it == impl_->index.end()) return false;
  it->second.touched_ms = impl_->NowMs();
  return true;
}

absl::StatusOr<std::vector<std::string>> ChunkStore::Missing(
    const std::vector<std::string>& hashes) const {
  std::vector<std::string> missing;
  std::lock_guard lock(impl_->mu);
  uint64_t now = impl_->NowMs();
  for (const auto& hash : hashes) {
    impl_->Touch(hash, now);
    if (!impl_->index.count(hash)) missing.push_back(hash);
  }
  return missing;
}

absl::StatusOr<std::string> ChunkStore::Read(std::string_view hash, uint64_t offset,
                                             uint64_t length, Check check) const {
  std::string key(hash);
  Impl::Location location;
  std::shared_ptr<Fd> active;
  std::string path;
  Fd own;
  int fd = -1;
  // A compaction may move the chunk and delete its pack between the look-up and the open:
  // the look-up is then made again (it moves at most once per pass).
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard lock(impl_->mu);
      auto it = impl_->index.find(key);
      if (it == impl_->index.end()) {
        return absl::NotFoundError(fmt::format("chunk {} is not in this node's chunk store", ShortHex(hash)));
      }
      it->second.touched_ms = impl_->NowMs();
      location = it->second;
      active = location.pack == impl_->active_pack ? impl_->active_fd : nullptr;
    }
    path = impl_->PackPath(location.pack);
    fd = active ? active->get() : -1;
    if (fd >= 0) break;
    own = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (own.get() >= 0) {
      fd = own.get();
      break;
    }
    if (errno != ENOENT || attempt >= 3) return ErrnoStatus(errno, "open " + path);
  }
  // The whole chunk is read to check it against its hash (a chunk is at most 256 KiB),
  // unless it was checked a moment ago.
  uint32_t now = impl_->Now();
  bool fresh = check == Check::kUnlessRecent && location.checked_at != 0 &&
               now - location.checked_at < Impl::kRecheckAfterSeconds;
  LATTICE_ASSIGN_OR_RETURN(std::string data, PreadUpTo(fd, location.offset, location.length, path));
  if (data.size() != location.length || (!fresh && ChunkHash(data) != key)) {
    spdlog::error("chunk store {}: chunk {} in {} no longer matches its hash; dropped so it is "
                  "fetched again",
                  impl_->dir, ShortHex(hash), PackName(location.pack));
    impl_->Drop(key, location);
    return absl::DataLossError(fmt::format(
        "chunk {} was damaged on this node's disk; it is dropped and fetched again from a peer",
        ShortHex(hash)));
  }
  if (!fresh) {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->index.find(key);
    if (it != impl_->index.end() && it->second.pack == location.pack &&
        it->second.offset == location.offset) {
      it->second.checked_at = now;
    }
  }
  if (offset == 0 && length >= data.size()) return data;
  if (offset >= data.size()) return std::string();
  return data.substr(offset, std::min<uint64_t>(length, data.size() - offset));
}

absl::StatusOr<uint64_t> ChunkStore::SizeOf(std::string_view hash) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(std::string(hash));
  if (it == impl_->index.end()) {
    return absl::NotFoundError(fmt::format("chunk {} is not in this node's chunk store", ShortHex(hash)));
  }
  return it->second.length;
}

absl::Status ChunkStore::Sync() {
  std::lock_guard sync_lock(impl_->sync_mu);
  std::shared_ptr<Fd> fd;
  bool dir_dirty;
  uint32_t pack;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->dirty && !impl_->dir_dirty) return absl::OkStatus();
    fd = impl_->active_fd;
    dir_dirty = impl_->dir_dirty;
    pack = impl_->active_pack;
    impl_->dirty = false;
    impl_->dir_dirty = false;
  }
  auto fail = [&](absl::Status status) {
    std::lock_guard lock(impl_->mu);
    impl_->dirty = true;
    impl_->dir_dirty = impl_->dir_dirty || dir_dirty;
    return status;
  };
  // Packs closed since the last Sync were synced as they were closed; the active one now.
  if (fd != nullptr && ::fdatasync(fd->get()) != 0) {
    return fail(ErrnoStatus(errno, "sync " + impl_->PackPath(pack)));
  }
  if (dir_dirty) {
    if (auto s = FsyncDir(impl_->packs_dir); !s.ok()) return fail(s);
  }
  return absl::OkStatus();
}

uint64_t ChunkStore::bytes_stored() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bytes;
}

uint64_t ChunkStore::chunk_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->index.size();
}

}  // namespace lattice::kernel
