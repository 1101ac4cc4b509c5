// Which fs entries are shown, and by which name (the rules in fs_reader.cc).
#include <set>

#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"
#include "state/fs_tree.h"
#include "state/fs_view.h"

namespace lattice::kernel::fs {

std::string View::NodeName(std::string_view author) const {
  std::string name = name_of_ ? name_of_(author) : std::string();
  return name.empty() ? ShortHex(author) : name;
}

absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> View::IdsUnder(
    const std::string& prefix) const {
  std::vector<std::pair<uint64_t, std::string>> ids;
  LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key,
                                                         std::string_view value) {
    ids.emplace_back(fs::ReadBe64(key.substr(prefix.size())), std::string(value));
    return true;
  }));
  return ids;
}

absl::StatusOr<bool> View::KeptByEdit(const v1::FsEntryRecord& rec) const {
  LATTICE_ASSIGN_OR_RETURN(auto entries, IdsUnder(Key(fs::kInodeEntriesTable, rec.inode())));
  for (const auto& [id, unused] : entries) {
    LATTICE_ASSIGN_OR_RETURN(auto other, fs::ReadEntry(source_, id));
    if (!other) continue;
    if (other->place().parent() != kFsTrashId) return false;
    // Trashed after this one: this unlink left another name live, or was not the last of
    // concurrent unlinks; the later one decides.
    if (other->place().at() > rec.place().at()) return false;
  }
  std::set<std::string_view> seen(rec.seen_versions().begin(), rec.seen_versions().end());
  std::vector<std::string> unseen;
  std::string heads = Key(fs::kHeadTable, rec.inode());
  LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(heads, [&](std::string_view key, std::string_view) {
    std::string_view id = key.substr(heads.size());
    if (!seen.contains(id)) unseen.emplace_back(id);
    return true;
  }));
  // A version the unlinking node wrote after the unlink (later in its own chain) is no
  // concurrent edit: writing to a file it had open after unlinking it keeps it unlinked.
  for (const auto& id : unseen) {
    v1::FsVersionRecord version;
    LATTICE_ASSIGN_OR_RETURN(bool found,
                             source_.Read(Key(fs::kVersionTable, rec.inode(), id), &version));
    if (!found) return true;
    bool after_unlink = version.version().author() == rec.place().author() &&
                        version.seq() > rec.place().seq();
    if (!after_unlink) return true;
  }
  return false;
}

absl::StatusOr<bool> View::HasShownChild(uint64_t dir, size_t depth) const {
  LATTICE_ASSIGN_OR_RETURN(auto children, IdsUnder(Key(fs::kChildTable, dir)));
  for (const auto& [id, value] : children) {
    if (!value.empty() && value[0] == fs::kChildPlaced) return true;
  }
  for (const auto& [id, value] : children) {
    LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
    if (!rec) continue;
    LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec, depth + 1));
    if (shown) return true;
  }
  return false;
}

absl::StatusOr<bool> View::Shown(const v1::FsEntryRecord& rec, size_t depth) const {
  if (rec.place().parent() != kFsTrashId) return true;
  if (!fs::ShownPlace(rec) || depth >= limits::kMaxFsTreeDepth) return false;
  if (!rec.dir()) return KeptByEdit(rec);
  LATTICE_ASSIGN_OR_RETURN(bool kept, HasShownChild(rec.inode(), depth));
  if (!kept) return false;
  return !(ShownUnderItself(rec));
}

bool View::ShownUnderItself(const v1::FsEntryRecord& rec) const {
  uint64_t at = rec.before_trash().parent();
  for (size_t depth = 0; at != kFsRootId && depth < limits::kMaxFsTreeDepth; ++depth) {
    if (at == rec.inode()) return true;
    auto up = fs::ReadEntry(source_, at);
    if (!up.ok() || !*up) return false;
    auto place = fs::ShownPlace(**up);
    if (!place) return false;
    at = place->parent();
  }
  return false;
}

absl::StatusOr<std::vector<std::pair<uint64_t, v1::FsEntryRecord>>> View::Named(
    uint64_t dir, std::string_view name, uint64_t skip) const {
  std::vector<uint64_t> ids;
  std::string prefix = fs::NamePrefix(dir, name);
  LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
    uint64_t id = fs::ReadBe64(key.substr(prefix.size()));
    if (id != skip || skip == 0) ids.push_back(id);
    return true;
  }));
  std::vector<std::pair<uint64_t, v1::FsEntryRecord>> out;
  for (uint64_t id : ids) {
    LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
    if (!rec) continue;
    LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
    if (shown) out.emplace_back(id, std::move(*rec));
  }
  return out;
}

absl::StatusOr<std::string> View::ShownName(uint64_t id, const v1::FsPlace& place) const {
  LATTICE_ASSIGN_OR_RETURN(auto named, Named(place.parent(), place.name(), id));
  for (const auto& other : named) {
    if (fs::ShownPlace(other.second)->at() > place.at()) {
      return FsConflictName(place.name(), fs::StampWallMs(place.at()),
                            NodeName(place.author()));
    }
  }
  return place.name();
}

absl::StatusOr<uint32_t> View::ShownEntries(uint64_t ino, uint64_t shown_entry) const {
  std::vector<uint64_t> ids;
  uint32_t n = 0;
  std::string prefix = Key(fs::kInodeEntriesTable, ino);
  LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
    uint64_t id = fs::ReadBe64(key.substr(prefix.size()));
    if (id == shown_entry && shown_entry != 0) {
      ++n;
    } else {
      ids.push_back(id);
    }
    return true;
  }));
  for (uint64_t id : ids) {
    LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
    if (!rec) continue;
    LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
    if (shown) ++n;
  }
  return n;
}

absl::StatusOr<uint32_t> View::ShownSubdirs(uint64_t dir) const {
  uint32_t n = 0;
  std::vector<uint64_t> trashed;
  std::string prefix = Key(fs::kSubdirTable, dir);
  LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key,
                                                         std::string_view value) {
    if (value.size() < 2 || value[1] != fs::kChildDir) return true;
    if (value[0] == fs::kChildPlaced) {
      ++n;
    } else {
      trashed.push_back(fs::ReadBe64(key.substr(prefix.size())));
    }
    return true;
  }));
  for (uint64_t id : trashed) {
    LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
    if (!rec) continue;
    LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
    if (shown) ++n;
  }
  return n;
}

}  // namespace lattice::kernel::fs
