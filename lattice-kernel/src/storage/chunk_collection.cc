// ChunkStore: garbage collection. The caller names what is live (ForUntouched, Collect);
// the collector forgets the rest from the index and compacts mostly dead packs by copying
// their live records into the newest pack, syncing it, and only then deleting the old pack
// (see chunk_store.cc for why a crash between the two is harmless).
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

namespace {

// The pack files of `packs_dir` by number, with their sizes.
absl::StatusOr<std::map<uint32_t, uint64_t>> ListPacks(const std::string& packs_dir) {
  std::map<uint32_t, uint64_t> packs;
  DIR* d = ::opendir(packs_dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "list " + packs_dir);
  while (dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    auto number = PackNumberOf(name);
    if (!number) continue;
    struct stat st {};
    if (::stat((packs_dir + "/" + name).c_str(), &st) != 0) continue;  // deleted meanwhile
    packs[*number] = static_cast<uint64_t>(st.st_size);
  }
  ::closedir(d);
  return packs;
}

}  // namespace

uint64_t ChunkStore::pack_bytes() const {
  auto packs = ListPacks(impl_->packs_dir);
  if (!packs.ok()) return 0;
  uint64_t total = 0;
  for (const auto& [number, size] : *packs) total += size;
  return total;
}

uint64_t ChunkStore::NowMs() const { return impl_->NowMs(); }

uint64_t ChunkStore::StartCollection() {
  std::lock_guard lock(impl_->mu);
  impl_->collecting = true;
  impl_->asked_absent.clear();
  impl_->asked_overflow = false;
  return impl_->NowMs();
}

absl::Status ChunkStore::ForUntouched(
    const std::vector<std::string>& hashes, uint64_t since_ms,
    const std::function<absl::Status(const std::vector<std::string>&)>& fn) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->collecting || impl_->asked_overflow) return absl::OkStatus();
  std::vector<std::string> untouched;
  for (const auto& hash : hashes) {
    if (auto it = impl_->index.find(hash); it != impl_->index.end()) {
      if (it->second.touched_ms >= since_ms) continue;
    } else if (auto asked = impl_->asked_absent.find(hash);
               asked != impl_->asked_absent.end() && asked->second >= since_ms) {
      continue;
    }
    untouched.push_back(hash);
  }
  if (untouched.empty()) return absl::OkStatus();
  return fn(untouched);
}

absl::Status ChunkStore::Impl::SyncActive() {
  std::shared_ptr<Fd> fd;
  bool sync_dir;
  uint32_t pack;
  {
    std::lock_guard lock(mu);
    fd = active_fd;
    sync_dir = dir_dirty;
    pack = active_pack;
    dirty = false;
    dir_dirty = false;
  }
  auto fail = [&](absl::Status status) {
    std::lock_guard lock(mu);
    dirty = true;
    dir_dirty = dir_dirty || sync_dir;
    return status;
  };
  if (fd != nullptr && ::fdatasync(fd->get()) != 0) {
    return fail(ErrnoStatus(errno, "sync " + PackPath(pack)));
  }
  if (sync_dir) {
    if (auto s = FsyncDir(packs_dir); !s.ok()) return fail(s);
  }
  return absl::OkStatus();
}

absl::StatusOr<ChunkStore::CollectStats> ChunkStore::Collect(
    const std::function<bool(std::string_view hash)>& keep, const CollectOptions& options) {
  std::lock_guard collect_lock(impl_->collect_mu);
  Impl& im = *impl_;
  CollectStats stats;
  auto proceed = [&](std::string_view step) {
    return !options.continue_at || options.continue_at(step);
  };
  // 1. Forget what is neither kept nor touched, and count what is live in each pack.
  std::map<uint32_t, uint64_t> live;  // pack -> bytes of its live records
  uint32_t active;
  uint64_t active_size;
  uint32_t newest;
  {
    std::lock_guard lock(im.mu);
    for (auto it = im.index.begin(); it != im.index.end();) {
      if (it->second.touched_ms < options.untouched_since_ms && !keep(it->first)) {
        stats.chunks_dropped += 1;
        stats.bytes_dropped += it->second.length;
        im.bytes -= it->second.length;
        it = im.index.erase(it);
        continue;
      }
      live[it->second.pack] += kHeaderBytes + it->second.length + kTrailerBytes;
      ++it;
    }
    im.collecting = false;
    im.asked_absent.clear();
    active = im.active_fd != nullptr ? im.active_pack : 0;
    active_size = im.active_size;
    newest = im.active_pack;
  }
  if (!proceed("counted")) return stats;

  // The packs are listed only now: every pack older than `newest` is closed, so its listed
  // size is its final one (a pack listed while still appended to, then closed by a writer
  // before the count, would be compacted only up to its old size and the rest lost). A pack
  // a writer opened since the count holds records the count never saw: it is left alone.
  LATTICE_ASSIGN_OR_RETURN(auto packs, ListPacks(im.packs_dir));
  std::erase_if(packs, [&](const auto& pack) { return pack.first > newest; });
  for (const auto& [number, size] : packs) stats.pack_bytes_before += size;

  // 2. Choose the packs to compact, emptiest first. The pack being appended to is closed
  // first when it qualifies (so a disk one big file filled gives its space back).
  auto qualifies = [&](uint32_t number, uint64_t size) {
    return size > 0 && static_cast<double>(live[number]) <=
                           options.max_live_fraction * static_cast<double>(size);
  };
  if (active != 0 && active_size >= options.min_seal_bytes && qualifies(active, active_size)) {
    std::lock_guard sync_lock(im.sync_mu);
    std::lock_guard lock(im.mu);
    if (im.active_fd != nullptr && im.active_pack == active) {
      if (::fdatasync(im.active_fd->get()) != 0) {
        return ErrnoStatus(errno, "sync " + im.PackPath(active));
      }
      im.active_fd.reset();  // the next record starts pack active + 1
      packs[active] = im.active_size;
      active = 0;
    }
  }
  std::vector<std::pair<double, uint32_t>> victims;
  for (const auto& [number, size] : packs) {
    if (number == active || !qualifies(number, size)) continue;
    victims.emplace_back(static_cast<double>(live[number]) / static_cast<double>(size), number);
  }
  std::sort(victims.begin(), victims.end());
  if (victims.size() > options.max_packs) victims.resize(options.max_packs);

  // 3. Copy the live records (and the tombstones of absent chunks) of each chosen pack.
  std::vector<uint32_t> emptied;
  absl::Status copy_status = absl::OkStatus();
  for (const auto& [fraction, number] : victims) {
    if (live[number] > 0 && stats.bytes_copied + live[number] > options.max_copy_bytes &&
        stats.bytes_copied > 0) {
      continue;  // over this pass's budget; a pack with nothing live still goes
    }
    if (live[number] > 0 && im.options.min_free_bytes > 0) {
      // A copy frees more than it takes (the pack is at most max_live_fraction live), so it
      // may dip below the chunks' reserve for a moment, but not into its lower half, which
      // the store's metadata writes keep (Store::Options::keep_chunks).
      struct statvfs fs {};
      if (::statvfs(im.packs_dir.c_str(), &fs) == 0 &&
          static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize <
              im.options.min_free_bytes / 2 + live[number]) {
        continue;
      }
    }
    std::string path = im.PackPath(number);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
      copy_status = ErrnoStatus(errno, "open " + path);
      break;
    }
    uint64_t size = packs[number];
    uint64_t offset = 0;
    bool whole = true;
    while (offset + kHeaderBytes + kTrailerBytes <= size) {
      auto header = PreadUpTo(fd.get(), offset, kHeaderBytes, path);
      if (!header.ok()) {
        copy_status = header.status();
        whole = false;
        break;
      }
      if (header->size() < kHeaderBytes) break;
      bool chunk = std::memcmp(header->data(), kChunkMagic, 4) == 0;
      bool tombstone = std::memcmp(header->data(), kTombstoneMagic, 4) == 0;
      if (!chunk && !tombstone) break;
      uint32_t length = GetU32(header->data() + 4);
      if (length > limits::kFsChunkMaxBytes) break;
      uint64_t end = offset + kHeaderBytes + length + kTrailerBytes;
      if (end > size) break;
      std::string hash = header->substr(8, kHashBytes);
      Impl::Location here{number, offset + kHeaderBytes, length, 0};
      offset = end;
      bool wanted;
      {
        std::lock_guard lock(im.mu);
        auto it = im.index.find(hash);
        wanted = tombstone ? it == im.index.end() : it != im.index.end() && it->second == here;
      }
      if (!wanted) continue;
      std::string data;
      if (chunk) {
        auto read = PreadUpTo(fd.get(), here.offset, length, path);
        if (!read.ok()) {
          copy_status = read.status();
          whole = false;
          break;
        }
        data = *std::move(read);
        if (data.size() != length || ChunkHash(data) != hash) {
          // Damaged: not copied, dropped (with a tombstone) so it is fetched again.
          spdlog::error("chunk store {}: chunk {} in {} no longer matches its hash; dropped",
                        im.dir, ShortHex(hash), PackName(number));
          im.Drop(hash, here);
          continue;
        }
      }
      std::lock_guard lock(im.mu);
      auto it = im.index.find(hash);
      if (chunk ? (it == im.index.end() || !(it->second == here)) : it != im.index.end()) {
        continue;  // dropped or stored again meanwhile
      }
      auto copied = im.Append(chunk ? kChunkMagic : kTombstoneMagic, hash, data);
      if (!copied.ok()) {
        copy_status = copied.status();
        whole = false;
        break;
      }
      if (chunk) {
        copied->touched_ms = it->second.touched_ms;
        it->second = *copied;
        stats.chunks_copied += 1;
        stats.bytes_copied += length;
      }
    }
    if (!whole) break;
    emptied.push_back(number);
  }
  if (!copy_status.ok()) {
    spdlog::warn("chunk store {}: compaction stopped: {}", im.dir, copy_status.message());
  }
  if (!proceed("copied")) return stats;

  // 4. The copies are made durable before any pack they came from goes.
  if (!emptied.empty()) {
    std::lock_guard sync_lock(im.sync_mu);
    LATTICE_RETURN_IF_ERROR(im.SyncActive());
  }
  if (!proceed("synced")) return stats;

  // 5. Delete the emptied packs. A reader that found a chunk in one opens it by name, fails,
  // and looks the chunk up again (Read).
  for (uint32_t number : emptied) {
    std::string path = im.PackPath(number);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("chunk store {}: deleting {} failed: {}", im.dir, PackName(number),
                   std::strerror(errno));
      continue;
    }
    stats.packs_deleted += 1;
    if (!proceed("deleted")) return stats;
  }
  if (!emptied.empty()) LATTICE_RETURN_IF_ERROR(FsyncDir(im.packs_dir));
  stats.pack_bytes_after = pack_bytes();
  if (!copy_status.ok() && stats.packs_deleted == 0 && stats.chunks_dropped == 0) {
    return copy_status;
  }
  return stats;
}

}  // namespace lattice::kernel
