// FsReader: what a person sees of an fs store, computed from the tables FsStateMachine keeps
// (fs_keys.h). The rules, each a function of the tables alone (so of the set of applied
// intentions, never of their order):
//
// - Visible entries. An entry placed in a directory (not the trash) is shown there. An entry
//   in the trash is shown at its place before the trash when
//     * it is not a directory, no entry of its inode is placed, its move to the trash is the
//       latest (by stamp) of its inode's entries, and its inode has a content head that move
//       did not see (delete versus edit keeps the edit), other than one the unlinking node
//       itself wrote after the unlink (a later seq of its chain: a write to a file it still
//       had open). Delete versus edit weighs only the unlink that removed the inode's last
//       name: a name removed while another name of the inode was live never comes back,
//       whatever was written later (`rm a` of a hard-linked file, then an edit through the
//       other name, then its unlink, shows nothing); of concurrent unlinks of different
//       names, the one stamped last decides and alone may be shown. Stamps are unique, so
//       every node picks the same candidate from the same set of moves; or
//     * it is a directory with a shown child: a directory removed on one node while an entry
//       was created or moved into it on another stays, at its old place, with what was put in
//       it (recursively: a removed directory whose removed subdirectory keeps a child is
//       shown too). The walk stops after kMaxFsTreeDepth levels and then shows nothing more.
//   So everything placed is reachable from the root: a removed directory above it is shown.
// - Names. Of the shown entries with one name in one directory, the one placed last (by the
//   stamp of its shown placement) keeps the name; each other is shown as
//   FsConflictName(name, time of its placement, its placer's node name). A file with several
//   heads shows, beside each of its shown entries, one read-only copy per losing head named
//   FsConflictName(the entry's stored name, the head's hlc time, the head's author's name),
//   with inode id FsConflictCopyId(inode, version id).
// - Listing order and offsets: entries by id; an entry's offset is 2 * id and its conflict
//   copies all have 2 * id + 1, so a listing resumed after any offset neither repeats nor
//   skips what did not change, whatever was added or removed elsewhere meanwhile. A page never
//   splits the copies of one entry, so a page may exceed `max` by the copies of its first
//   entry when they alone do not fit.
// - nlink: a directory's is 2 plus its shown subdirectories, another inode's its shown
//   entries. An inode is live while it has a shown entry (the root always is).
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_content.h"
#include "state/fs_keys.h"
#include "state/fs_reader.h"
#include "state/fs_tree.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

using fs::FsSource;
using fs::Key;

uint64_t IdFromDigest(const std::string& digest) {
  uint64_t id = 0;
  for (int i = 7; i >= 0; --i) id = (id << 8) | static_cast<uint8_t>(digest[i]);
  id &= ~kFsOpRefBit;
  if (id < 16) id += 16;
  return id;
}

void AppendLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

constexpr std::string_view kConflictMarker = ".sync-conflict-";

// The reads and rules above, over one source.
class View {
 public:
  View(const FsSource& source, const FsReader::NameOf& name_of)
      : source_(source), name_of_(name_of) {}

  std::string NodeName(std::string_view author) const {
    std::string name = name_of_ ? name_of_(author) : std::string();
    return name.empty() ? ShortHex(author) : name;
  }

  // Ids under `prefix` (prefix be64(id) ...), read before anything else is, so no read
  // happens while a scan holds the database.
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> IdsUnder(
      const std::string& prefix) const {
    std::vector<std::pair<uint64_t, std::string>> ids;
    LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key,
                                                           std::string_view value) {
      ids.emplace_back(fs::ReadBe64(key.substr(prefix.size())), std::string(value));
      return true;
    }));
    return ids;
  }

  // Whether trashed file entry `rec` is shown at its old place (delete versus edit): it is
  // the inode's entry trashed last, no entry of the inode is placed, and a head exists that
  // its unlink did not see and that does not follow it in the unlinker's own chain.
  absl::StatusOr<bool> KeptByEdit(const v1::FsEntryRecord& rec) const {
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

  absl::StatusOr<bool> HasShownChild(uint64_t dir, size_t depth) const {
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

  absl::StatusOr<bool> Shown(const v1::FsEntryRecord& rec, size_t depth = 0) const {
    if (rec.place().parent() != kFsTrashId) return true;
    if (!fs::ShownPlace(rec) || depth >= limits::kMaxFsTreeDepth) return false;
    if (!rec.dir()) return KeptByEdit(rec);
    LATTICE_ASSIGN_OR_RETURN(bool kept, HasShownChild(rec.inode(), depth));
    if (!kept) return false;
    return !(ShownUnderItself(rec));
  }

  // A removed directory whose old place has since been moved under it would be shown inside
  // itself: it is not shown (what it holds is then out of sight, as in the trash).
  bool ShownUnderItself(const v1::FsEntryRecord& rec) const {
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

  // Shown entries under (dir, name) with their records.
  absl::StatusOr<std::vector<std::pair<uint64_t, v1::FsEntryRecord>>> Named(
      uint64_t dir, std::string_view name) const {
    std::vector<uint64_t> ids;
    std::string prefix = fs::NamePrefix(dir, name);
    LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
      ids.push_back(fs::ReadBe64(key.substr(prefix.size())));
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

  // The name entry `id` (shown at `place`) is shown by.
  absl::StatusOr<std::string> ShownName(uint64_t id, const v1::FsPlace& place) const {
    LATTICE_ASSIGN_OR_RETURN(auto named, Named(place.parent(), place.name()));
    for (const auto& [other, rec] : named) {
      if (other != id && fs::ShownPlace(rec)->at() > place.at()) {
        return FsConflictName(place.name(), fs::StampWallMs(place.at()),
                              NodeName(place.author()));
      }
    }
    return place.name();
  }

  // The items a shown entry brings to its directory's listing: itself, then its copies.
  absl::StatusOr<std::vector<FsDirEntryView>> Items(uint64_t id,
                                                    const v1::FsEntryRecord& rec) const {
    std::vector<FsDirEntryView> out;
    auto place = fs::ShownPlace(rec);
    if (!place) return out;
    LATTICE_ASSIGN_OR_RETURN(auto inode, fs::ReadInodeRecord(source_, rec.inode()));
    if (!inode) return absl::DataLossError("an fs entry names an inode without a record");
    FsDirEntryView self;
    LATTICE_ASSIGN_OR_RETURN(self.name, ShownName(id, *place));
    self.entry = id;
    self.inode = rec.inode();
    self.mode = inode->type() | inode->perm().value();
    self.offset = 2 * id;
    out.push_back(std::move(self));
    if (inode->type() != S_IFREG) return out;
    LATTICE_ASSIGN_OR_RETURN(auto heads, fs::ReadFsHeads(source_, rec.inode()));
    for (size_t i = 1; i < heads.size(); ++i) {
      FsDirEntryView copy;
      copy.name = FsConflictName(place->name(), heads[i].hlc().wall_ms(),
                                 NodeName(heads[i].author()));
      copy.entry = 0;
      copy.inode = FsConflictCopyId(rec.inode(), heads[i].id());
      copy.mode = S_IFREG | (inode->perm().value() & 0444);
      copy.offset = 2 * id + 1;
      out.push_back(std::move(copy));
    }
    return out;
  }

  absl::StatusOr<std::vector<FsDirEntryView>> ItemsOf(uint64_t id) const {
    LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
    if (!rec) return std::vector<FsDirEntryView>{};
    LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
    if (!shown) return std::vector<FsDirEntryView>{};
    return Items(id, *rec);
  }

  // Shown entries of an inode.
  absl::StatusOr<uint32_t> ShownEntries(uint64_t ino) const {
    std::vector<uint64_t> ids;
    std::string prefix = Key(fs::kInodeEntriesTable, ino);
    LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
      ids.push_back(fs::ReadBe64(key.substr(prefix.size())));
      return true;
    }));
    uint32_t n = 0;
    for (uint64_t id : ids) {
      LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
      if (!rec) continue;
      LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
      if (shown) ++n;
    }
    return n;
  }

  absl::StatusOr<uint32_t> ShownSubdirs(uint64_t dir) const {
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

  absl::StatusOr<std::optional<FsInode>> Inode(uint64_t ino) const {
    std::optional<std::string> copy;
    LATTICE_ASSIGN_OR_RETURN(copy, source_.Get(Key(fs::kCopyTable, ino)));
    if (copy && copy->size() > 8) return CopyInode(ino, fs::ReadBe64(*copy), copy->substr(8));
    LATTICE_ASSIGN_OR_RETURN(auto record, fs::ReadInodeRecord(source_, ino));
    if (!record) return std::nullopt;
    FsInode out;
    out.id = ino;
    v1::FsAttr& attr = out.attr;
    attr.set_mode(record->type() | record->perm().value());
    attr.set_uid(record->uid().value());
    attr.set_gid(record->gid().value());
    attr.set_rdev(record->rdev());
    *attr.mutable_atime() = record->atime().value();
    *attr.mutable_mtime() = record->mtime().value();
    *attr.mutable_ctime() = record->ctime().value();
    out.symlink_target = record->symlink_target();
    if (record->type() == S_IFDIR) {
      LATTICE_ASSIGN_OR_RETURN(uint32_t subdirs, ShownSubdirs(ino));
      out.nlink = 2 + subdirs;
      if (ino == kFsRootId) {
        out.live = true;
      } else {
        LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, ino));
        bool shown = false;
        if (rec) {
          LATTICE_ASSIGN_OR_RETURN(shown, Shown(*rec));
        }
        out.live = shown;
      }
      return out;
    }
    LATTICE_ASSIGN_OR_RETURN(out.nlink, ShownEntries(ino));
    out.live = out.nlink > 0;
    if (record->type() == S_IFLNK) out.size = record->symlink_target().size();
    if (record->type() == S_IFREG) {
      LATTICE_ASSIGN_OR_RETURN(auto heads, fs::ReadFsHeads(source_, ino));
      if (!heads.empty()) {
        SetContent(&out, heads[0]);
        out.other_heads.assign(heads.begin() + 1, heads.end());
      }
    }
    return out;
  }

  static void SetContent(FsInode* out, const v1::FsVersion& version) {
    out->size = version.size();
    uint64_t bytes = 0;
    for (const auto& e : version.extents()) {
      if (!e.hash().empty()) bytes += e.length();
    }
    out->blocks = (bytes + 511) / 512;
    out->winner = version;
  }

  absl::StatusOr<std::optional<FsInode>> CopyInode(uint64_t id, uint64_t ino,
                                                   const std::string& version_id) const {
    LATTICE_ASSIGN_OR_RETURN(auto base, Inode(ino));
    if (!base) return std::nullopt;
    v1::FsVersionRecord version;
    LATTICE_ASSIGN_OR_RETURN(bool found,
                             source_.Read(Key(fs::kVersionTable, ino, version_id), &version));
    if (!found) return std::nullopt;
    FsInode out;
    out.id = id;
    out.attr = base->attr;
    out.attr.set_mode(S_IFREG | (base->attr.mode() & 0444));
    if (version.version().has_mtime()) *out.attr.mutable_mtime() = version.version().mtime();
    SetContent(&out, version.version());
    out.conflict_copy = true;
    out.copy_of = ino;
    bool losing = false;
    for (const auto& head : base->other_heads) losing |= head.id() == version_id;
    out.live = base->live && losing;
    out.nlink = out.live ? 1 : 0;
    return out;
  }

  absl::StatusOr<std::optional<FsDirEntryView>> Lookup(uint64_t parent,
                                                       std::string_view name) const {
    LATTICE_ASSIGN_OR_RETURN(auto named, Named(parent, name));
    if (!named.empty()) {
      size_t best = 0;
      for (size_t i = 1; i < named.size(); ++i) {
        if (fs::ShownPlace(named[i].second)->at() > fs::ShownPlace(named[best].second)->at()) {
          best = i;
        }
      }
      LATTICE_ASSIGN_OR_RETURN(auto items, Items(named[best].first, named[best].second));
      if (!items.empty()) return items[0];
    }
    // A conflict name: NAME.sync-conflict-...; NAME may itself hold the marker.
    for (size_t pos = name.find(kConflictMarker); pos != std::string_view::npos && pos > 0;
         pos = name.find(kConflictMarker, pos + 1)) {
      LATTICE_ASSIGN_OR_RETURN(auto base, Named(parent, name.substr(0, pos)));
      for (const auto& [id, rec] : base) {
        LATTICE_ASSIGN_OR_RETURN(auto items, Items(id, rec));
        for (auto& item : items) {
          if (item.name == name) return item;
        }
      }
    }
    return std::nullopt;
  }

  absl::StatusOr<std::vector<FsDirEntryView>> List(uint64_t dir, uint64_t offset, size_t max,
                                                   bool* end) const {
    std::vector<FsDirEntryView> out;
    *end = true;
    std::string prefix = Key(fs::kChildTable, dir);
    std::string start = prefix + fs::Be64(offset / 2);
    std::vector<uint64_t> batch;
    bool more = true;
    // Reads ids in batches so no read happens inside a scan callback.
    while (more) {
      batch.clear();
      more = false;
      LATTICE_RETURN_IF_ERROR(source_.Scan(start, keys::PrefixEnd(prefix), [&](std::string_view key,
                                                                         std::string_view) {
        if (batch.size() >= 256) {
          more = true;
          return false;
        }
        batch.push_back(fs::ReadBe64(key.substr(prefix.size())));
        return true;
      }));
      for (uint64_t id : batch) {
        LATTICE_ASSIGN_OR_RETURN(auto items, ItemsOf(id));
        std::erase_if(items, [&](const FsDirEntryView& item) { return item.offset <= offset; });
        if (items.empty()) continue;
        if (!out.empty() && out.size() + items.size() > max) {
          *end = false;
          return out;
        }
        for (auto& item : items) out.push_back(std::move(item));
      }
      if (!batch.empty()) start = prefix + fs::Be64(batch.back() + 1);
      if (batch.empty() || batch.back() == ~0ull) more = false;
    }
    return out;
  }

  absl::StatusOr<std::vector<FsConflictView>> Conflicts(size_t max) const {
    std::vector<FsConflictView> out;
    // Content: inodes with more than one head.
    std::map<uint64_t, int> heads;
    std::string hprefix = fs::TablePrefix(fs::kHeadTable);
    LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(hprefix, [&](std::string_view key,
                                                            std::string_view) {
      ++heads[fs::ReadBe64(key.substr(hprefix.size()))];
      return true;
    }));
    for (const auto& [ino, count] : heads) {
      if (count < 2 || out.size() >= max) continue;
      std::vector<uint64_t> entries;
      std::string prefix = Key(fs::kInodeEntriesTable, ino);
      LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key,
                                                             std::string_view) {
        entries.push_back(fs::ReadBe64(key.substr(prefix.size())));
        return true;
      }));
      LATTICE_ASSIGN_OR_RETURN(auto versions, fs::ReadFsHeads(source_, ino));
      for (uint64_t id : entries) {
        LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
        if (!rec) continue;
        LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
        if (!shown) continue;
        LATTICE_ASSIGN_OR_RETURN(auto items, Items(id, *rec));
        if (items.empty()) continue;
        for (size_t i = 1; i < items.size() && i < versions.size() && out.size() < max; ++i) {
          FsConflictView c;
          c.parent = fs::ShownPlace(*rec)->parent();
          c.name = items[i].name;
          c.original = items[0].name;
          c.inode = items[i].inode;
          c.version = versions[i].id();
          c.author = NodeName(versions[i].author());
          c.hlc = versions[i].hlc();
          out.push_back(std::move(c));
        }
      }
    }
    // Names: shown entries sharing a name in one directory.
    std::string nprefix = fs::TablePrefix(fs::kNameTable);
    std::vector<std::pair<uint64_t, std::string>> groups;
    std::pair<uint64_t, std::string> last{0, ""};
    int count = 0;
    LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(nprefix, [&](std::string_view key,
                                                            std::string_view) {
      std::string_view rest = key.substr(nprefix.size());
      if (rest.size() < 8 + 1 + 8) return true;
      std::pair<uint64_t, std::string> group{fs::ReadBe64(rest),
                                             std::string(rest.substr(8, rest.size() - 17))};
      if (group == last) {
        if (++count == 2) groups.push_back(group);
      } else {
        last = std::move(group);
        count = 1;
      }
      return true;
    }));
    for (const auto& [dir, name] : groups) {
      if (out.size() >= max) break;
      LATTICE_ASSIGN_OR_RETURN(auto named, Named(dir, name));
      for (const auto& [id, rec] : named) {
        if (out.size() >= max) break;
        auto place = *fs::ShownPlace(rec);
        LATTICE_ASSIGN_OR_RETURN(std::string shown, ShownName(id, place));
        if (shown == name) continue;
        FsConflictView c;
        c.parent = dir;
        c.name = shown;
        c.original = name;
        c.inode = rec.inode();
        c.author = NodeName(place.author());
        c.hlc.set_wall_ms(fs::StampWallMs(place.at()));
        if (place.at().size() >= 12) {
          uint32_t counter = 0;
          for (int i = 8; i < 12; ++i) {
            counter = (counter << 8) | static_cast<uint8_t>(place.at()[i]);
          }
          c.hlc.set_counter(counter);
        }
        out.push_back(std::move(c));
      }
    }
    return out;
  }

  absl::StatusOr<uint64_t> InodeCount() const {
    std::vector<uint64_t> inodes;
    std::string prefix = fs::TablePrefix(fs::kInodeTable);
    LATTICE_RETURN_IF_ERROR(source_.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
      inodes.push_back(fs::ReadBe64(key.substr(prefix.size())));
      return true;
    }));
    uint64_t n = 0;
    bool root = false;
    for (uint64_t ino : inodes) {
      if (ino == kFsRootId) {
        root = true;
        ++n;
        continue;
      }
      LATTICE_ASSIGN_OR_RETURN(auto inode, fs::ReadInodeRecord(source_, ino));
      if (!inode) continue;
      if (inode->type() == S_IFDIR) {
        LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, ino));
        if (!rec) continue;
        LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
        if (shown) ++n;
      } else {
        LATTICE_ASSIGN_OR_RETURN(uint32_t entries, ShownEntries(ino));
        if (entries > 0) ++n;
      }
    }
    return n + (root ? 0 : 1);
  }

  const FsSource& source() const { return source_; }

 private:
  const FsSource& source_;
  const FsReader::NameOf& name_of_;
};

}  // namespace

uint64_t FsDerivedId(std::string_view intention_hash, uint32_t index) {
  std::string input = "lattice/fs/id/v1";
  input.append(intention_hash);
  AppendLe(&input, index, 4);
  return IdFromDigest(Blake2b256(input));
}

std::string FsVersionId(std::string_view intention_hash, uint32_t index) {
  std::string id(intention_hash);
  AppendLe(&id, index, 4);
  return id;
}

uint64_t FsConflictCopyId(uint64_t ino, std::string_view version_id) {
  std::string input = "lattice/fs/copy/v1";
  AppendLe(&input, ino, 8);
  input.append(version_id);
  return IdFromDigest(Blake2b256(input));
}

std::string FsConflictName(std::string_view name, uint64_t wall_ms, std::string_view author_name) {
  time_t secs = static_cast<time_t>(wall_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{}{}{:04}{:02}{:02}-{:02}{:02}{:02}-{}", name, kConflictMarker,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, author_name);
}

struct FsReader::Source {
  std::unique_ptr<FsSource> source;
};

FsReader::FsReader(const Database& db, NameOf name_of)
    : source_(std::make_shared<Source>(Source{std::make_unique<fs::DatabaseSource>(db)})),
      name_of_(std::move(name_of)) {}

FsReader::FsReader(BatchView& view, NameOf name_of)
    : source_(std::make_shared<Source>(Source{std::make_unique<fs::ViewSource>(view)})),
      name_of_(std::move(name_of)) {}

absl::StatusOr<std::optional<FsInode>> FsReader::Inode(uint64_t ino) const {
  return View(*source_->source, name_of_).Inode(ino);
}

absl::StatusOr<std::optional<FsDirEntryView>> FsReader::Lookup(uint64_t parent,
                                                               std::string_view name) const {
  return View(*source_->source, name_of_).Lookup(parent, name);
}

absl::StatusOr<std::vector<FsDirEntryView>> FsReader::List(uint64_t dir, uint64_t offset,
                                                           size_t max, bool* end) const {
  return View(*source_->source, name_of_).List(dir, offset, max, end);
}

absl::StatusOr<std::optional<std::pair<uint64_t, std::string>>> FsReader::PlaceOf(
    uint64_t entry) const {
  LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(*source_->source, entry));
  if (!rec) return std::nullopt;
  return std::make_pair(rec->place().parent(), rec->place().name());
}

absl::StatusOr<std::optional<v1::FsVersion>> FsReader::Version(uint64_t ino,
                                                               std::string_view id) const {
  v1::FsVersionRecord record;
  LATTICE_ASSIGN_OR_RETURN(bool found,
                           source_->source->Read(Key(fs::kVersionTable, ino, id), &record));
  if (!found) return std::nullopt;
  return record.version();
}

absl::StatusOr<std::vector<std::pair<v1::FsVersion, std::vector<std::string>>>>
FsReader::History(uint64_t ino, size_t max) const {
  LATTICE_ASSIGN_OR_RETURN(auto versions, fs::ReadFsVersions(*source_->source, ino));
  std::vector<std::pair<v1::FsVersion, std::vector<std::string>>> out;
  for (auto& v : versions) {
    if (out.size() >= max) break;
    out.emplace_back(v.version(),
                     std::vector<std::string>(v.replaces().begin(), v.replaces().end()));
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> FsReader::Xattr(uint64_t ino,
                                                           std::string_view name) const {
  v1::FsXattrRecord record;
  LATTICE_ASSIGN_OR_RETURN(bool found,
                           source_->source->Read(Key(fs::kXattrTable, ino, name), &record));
  if (!found || record.removed()) return std::nullopt;
  return record.value();
}

absl::StatusOr<std::vector<std::string>> FsReader::XattrNames(uint64_t ino) const {
  std::vector<std::string> out;
  std::string prefix = Key(fs::kXattrTable, ino);
  absl::Status parse = absl::OkStatus();
  LATTICE_RETURN_IF_ERROR(source_->source->ScanPrefix(
      prefix, [&](std::string_view key, std::string_view value) {
        v1::FsXattrRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError("an xattr record does not parse");
          return false;
        }
        if (!record.removed()) out.emplace_back(key.substr(prefix.size()));
        return true;
      }));
  LATTICE_RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<std::vector<FsConflictView>> FsReader::Conflicts(size_t max) const {
  return View(*source_->source, name_of_).Conflicts(max);
}

absl::StatusOr<uint64_t> FsReader::InodeCount() const {
  return View(*source_->source, name_of_).InodeCount();
}

}  // namespace lattice::kernel
