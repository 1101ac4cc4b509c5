#include "store/chunk_gc.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <vector>

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_content.h"
#include "state/fs_keys.h"
#include "state/fs_reader.h"
#include "store/chunk_wants.h"
#include "store/store.h"

namespace lattice::kernel {
namespace {

constexpr size_t kHashBytes = 32;

void AddExtents(const v1::FsVersion& version, std::unordered_set<std::string>* kept) {
  for (const auto& extent : version.extents()) {
    if (extent.hash().size() == kHashBytes) kept->insert(extent.hash());
  }
}

// What rules 1-3 need of one inode's versions: their ids, times and what each replaced
// (the extents are read again only for the versions kept, so memory stays per inode ids).
struct VersionInfo {
  std::string id;
  uint64_t wall_ms = 0;
  std::vector<std::string> replaces;
};

absl::Status KeepOfInode(const fs::DatabaseSource& source, const FsReader& reader, uint64_t ino,
                         const std::vector<VersionInfo>& versions, uint64_t now_wall_ms,
                         uint64_t grace_ms, std::unordered_set<std::string>* kept) {
  auto recent = [&](uint64_t wall_ms) { return wall_ms + grace_ms >= now_wall_ms; };
  std::vector<std::string> needed;
  // Rules 1 and 2: the heads, while the inode is live or was trashed recently.
  LATTICE_ASSIGN_OR_RETURN(auto inode, reader.Inode(ino));
  bool keep_heads = !inode.has_value() || inode->live;
  if (!keep_heads) {
    uint64_t trashed_at = 0;
    std::vector<uint64_t> entries;
    std::string prefix = fs::Key(fs::kInodeEntriesTable, ino);
    LATTICE_RETURN_IF_ERROR(source.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
      if (key.size() >= prefix.size() + 8) entries.push_back(fs::ReadBe64(key.substr(prefix.size())));
      return true;
    }));
    for (uint64_t entry : entries) {
      v1::FsEntryRecord record;
      LATTICE_ASSIGN_OR_RETURN(bool found, source.Read(fs::Key(fs::kEntryTable, entry), &record));
      if (found) trashed_at = std::max(trashed_at, fs::StampWallMs(record.place().at()));
    }
    keep_heads = entries.empty() || recent(trashed_at);
  }
  if (keep_heads) {
    LATTICE_ASSIGN_OR_RETURN(auto heads, fs::ReadFsHeads(source, ino));
    for (const auto& head : heads) AddExtents(head, kept);
  }
  // Rule 3: versions replaced recently.
  for (const auto& version : versions) {
    if (!recent(version.wall_ms)) continue;
    for (const auto& id : version.replaces) needed.push_back(id);
  }
  for (const auto& id : needed) {
    v1::FsVersionRecord record;
    LATTICE_ASSIGN_OR_RETURN(bool found, source.Read(fs::Key(fs::kVersionTable, ino, id), &record));
    if (found) AddExtents(record.version(), kept);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unordered_set<std::string>> FsKeptChunks(const Database& db,
                                                             uint64_t now_wall_ms,
                                                             uint64_t grace_ms) {
  std::unordered_set<std::string> kept;
  fs::DatabaseSource source(db);
  FsReader reader(db, nullptr);
  // One walk of the version table (S v be64(inode) id), an inode at a time.
  std::string prefix = fs::TablePrefix(fs::kVersionTable);
  uint64_t current = 0;
  bool any = false;
  std::vector<VersionInfo> versions;
  absl::Status status = absl::OkStatus();
  auto flush = [&] {
    if (!any) return absl::OkStatus();
    auto s = KeepOfInode(source, reader, current, versions, now_wall_ms, grace_ms, &kept);
    versions.clear();
    return s;
  };
  LATTICE_RETURN_IF_ERROR(source.ScanPrefix(prefix, [&](std::string_view key, std::string_view value) {
    if (key.size() < prefix.size() + 8) return true;
    uint64_t ino = fs::ReadBe64(key.substr(prefix.size()));
    if (!any || ino != current) {
      status = flush();
      if (!status.ok()) return false;
      current = ino;
      any = true;
    }
    v1::FsVersionRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      status = absl::DataLossError(fmt::format("a version record of inode {} does not parse", ino));
      return false;
    }
    VersionInfo info;
    info.id = record.version().id();
    info.wall_ms = record.version().hlc().wall_ms();
    info.replaces.assign(record.replaces().begin(), record.replaces().end());
    versions.push_back(std::move(info));
    return true;
  }));
  LATTICE_RETURN_IF_ERROR(status);
  LATTICE_RETURN_IF_ERROR(flush());
  return kept;
}

absl::StatusOr<ChunkGcStats> Store::CollectChunks(const ChunkGcOptions& options) {
  if (chunks_ == nullptr) {
    return absl::FailedPreconditionError(
        fmt::format("store {} keeps no chunks", FormatStoreId(options_.id)));
  }
  ChunkGcStats stats;
  uint64_t start = chunks_->StartCollection();
  uint64_t now_wall_ms = options.now_wall_ms;
  if (now_wall_ms == 0) {
    now_wall_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  }
  absl::StatusOr<std::unordered_set<std::string>> kept = std::unordered_set<std::string>();
  if (options_.type == StoreType::kFs) kept = FsKeptChunks(*db_, now_wall_ms, options.grace_ms);
  if (!kept.ok()) {
    (void)chunks_->Collect([](std::string_view) { return true; }, {});  // ends the collection
    return kept.status();
  }
  stats.chunks_kept = kept->size();
  auto keep = [&](std::string_view hash) { return kept->count(std::string(hash)) > 0; };
  if (options_.type != StoreType::kFs) {
    // Chunks kept for tests in other stores: nothing cites them through a state.
    (void)chunks_->Collect([](std::string_view) { return true; }, {});
    return stats;
  }

  // Wants of chunks no longer kept here are dropped, unless recorded while this pass ran.
  auto drop_wants = [&]() -> absl::Status {
    std::string after;
    for (;;) {
      LATTICE_ASSIGN_OR_RETURN(auto wants, ListChunkWants(*db_, 4096, after));
      if (wants.empty()) return absl::OkStatus();
      after = wants.back();
      std::vector<std::string> unneeded;
      for (auto& hash : wants) {
        if (!keep(hash)) unneeded.push_back(std::move(hash));
      }
      auto drop = [&](const std::vector<std::string>& hashes) {
        stats.wants_dropped += hashes.size();
        return DropChunkWants(*db_, hashes);
      };
      LATTICE_RETURN_IF_ERROR(chunks_->ForUntouched(unneeded, start, drop));
    }
  };
  if (auto s = drop_wants(); !s.ok()) {
    // The collection goes on: a want kept too long costs a few requests to peers.
    spdlog::warn("store {}: dropping the wants of collected chunks failed: {}",
                 FormatStoreId(options_.id), s.message());
  }

  // The other way round: chunks the rule keeps that this node lacks are wanted again. A
  // want may be missing because it was lost (wants are written unsynced) or never recorded:
  // a write in delta form cites only its new chunks, and its base's may have been collected
  // here before that write arrived (an edit made offline long ago).
  uint64_t wants_added = 0;
  std::vector<std::string> batch;
  auto want_missing = [&]() -> absl::Status {
    LATTICE_ASSIGN_OR_RETURN(auto missing, chunks_->Missing(batch));
    batch.clear();
    if (missing.empty()) return absl::OkStatus();
    wants_added += missing.size();
    return WantChunks(missing);
  };
  absl::Status wanted = absl::OkStatus();
  for (const auto& hash : *kept) {
    batch.push_back(hash);
    if (batch.size() >= 4096) wanted.Update(want_missing());
  }
  if (!batch.empty()) wanted.Update(want_missing());
  if (!wanted.ok()) {
    spdlog::warn("store {}: wanting the missing chunks of kept versions failed: {}",
                 FormatStoreId(options_.id), wanted.message());
  }

  ChunkStore::CollectOptions collect = options.collect;
  collect.untouched_since_ms = start > options.touch_window_ms ? start - options.touch_window_ms : 0;
  LATTICE_ASSIGN_OR_RETURN(stats.collect, chunks_->Collect(keep, collect));
  if (stats.collect.chunks_dropped > 0 || stats.collect.packs_deleted > 0 ||
      stats.wants_dropped > 0 || wants_added > 0) {
    spdlog::info("store {}: chunk collection forgot {} chunks ({} bytes) and {} wants, wanted "
                 "{} missing, copied {} bytes, deleted {} packs: {} -> {} pack bytes",
                 FormatStoreId(options_.id), stats.collect.chunks_dropped,
                 stats.collect.bytes_dropped, stats.wants_dropped, wants_added,
                 stats.collect.bytes_copied,
                 stats.collect.packs_deleted, stats.collect.pack_bytes_before,
                 stats.collect.pack_bytes_after);
  }
  return stats;
}

}  // namespace lattice::kernel
