// What the shown fs entries show: inodes and their conflict copies, lookups, listings, the
// conflicts in a store and the live inode count (the rules in fs_reader.cc).
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "lattice/common/status.h"
#include "state/fs_content.h"
#include "state/fs_tree.h"
#include "state/fs_view.h"
#include "storage/keys.h"

namespace lattice::kernel::fs {

absl::StatusOr<std::vector<FsDirEntryView>> View::Items(uint64_t id,
                                                        const v1::FsEntryRecord& rec,
                                                        bool attrs) const {
  std::vector<FsDirEntryView> out;
  auto place = fs::ShownPlace(rec);
  if (!place) return out;
  LATTICE_ASSIGN_OR_RETURN(auto inode, fs::ReadInodeRecord(source_, rec.inode()));
  if (!inode) return absl::DataLossError("an fs entry names an inode without a record");
  std::vector<v1::FsVersion> heads;
  if (inode->type() == S_IFREG) {
    LATTICE_ASSIGN_OR_RETURN(heads, fs::ReadFsHeads(source_, rec.inode()));
  }
  FsDirEntryView self;
  LATTICE_ASSIGN_OR_RETURN(self.name, ShownName(id, *place));
  self.entry = id;
  self.inode = rec.inode();
  self.mode = inode->type() | inode->perm().value();
  self.offset = 2 * id;
  if (attrs) {
    LATTICE_ASSIGN_OR_RETURN(self.attrs, InodeFrom(rec.inode(), *inode, heads, id));
  }
  out.push_back(std::move(self));
  for (size_t i = 1; i < heads.size(); ++i) {
    FsDirEntryView copy;
    copy.name = FsConflictName(place->name(), heads[i].hlc().wall_ms(),
                               NodeName(heads[i].author()));
    copy.entry = 0;
    copy.inode = FsConflictCopyId(rec.inode(), heads[i].id());
    copy.mode = S_IFREG | (inode->perm().value() & 0444);
    copy.offset = 2 * id + 1;
    if (attrs) copy.attrs = CopyFrom(copy.inode, *out.front().attrs, heads[i]);
    out.push_back(std::move(copy));
  }
  return out;
}

absl::StatusOr<std::vector<FsDirEntryView>> View::ItemsOf(uint64_t id, bool attrs) const {
  LATTICE_ASSIGN_OR_RETURN(auto rec, fs::ReadEntry(source_, id));
  if (!rec) return std::vector<FsDirEntryView>{};
  LATTICE_ASSIGN_OR_RETURN(bool shown, Shown(*rec));
  if (!shown) return std::vector<FsDirEntryView>{};
  return Items(id, *rec, attrs);
}

absl::StatusOr<std::optional<FsInode>> View::Inode(uint64_t ino) const {
  std::optional<std::string> copy;
  LATTICE_ASSIGN_OR_RETURN(copy, source_.Get(Key(fs::kCopyTable, ino)));
  if (copy && copy->size() > 8) return CopyInode(ino, fs::ReadBe64(*copy), copy->substr(8));
  LATTICE_ASSIGN_OR_RETURN(auto record, fs::ReadInodeRecord(source_, ino));
  if (!record) return std::nullopt;
  std::vector<v1::FsVersion> heads;
  if (record->type() == S_IFREG) {
    LATTICE_ASSIGN_OR_RETURN(heads, fs::ReadFsHeads(source_, ino));
  }
  return InodeFrom(ino, *record, heads, 0);
}

absl::StatusOr<FsInode> View::InodeFrom(uint64_t ino, const v1::FsInodeRecord& record,
                                        const std::vector<v1::FsVersion>& heads,
                                        uint64_t shown_entry) const {
  FsInode out;
  out.id = ino;
  v1::FsAttr& attr = out.attr;
  attr.set_mode(record.type() | record.perm().value());
  attr.set_uid(record.uid().value());
  attr.set_gid(record.gid().value());
  attr.set_rdev(record.rdev());
  *attr.mutable_atime() = record.atime().value();
  *attr.mutable_mtime() = record.mtime().value();
  *attr.mutable_ctime() = record.ctime().value();
  out.symlink_target = record.symlink_target();
  if (record.type() == S_IFDIR) {
    LATTICE_ASSIGN_OR_RETURN(uint32_t subdirs, ShownSubdirs(ino));
    out.nlink = 2 + subdirs;
    // A directory's one entry has the directory's id.
    if (ino == kFsRootId || shown_entry == ino) {
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
  LATTICE_ASSIGN_OR_RETURN(out.nlink, ShownEntries(ino, shown_entry));
  out.live = out.nlink > 0;
  if (record.type() == S_IFLNK) out.size = record.symlink_target().size();
  if (record.type() == S_IFREG && !heads.empty()) {
    SetContent(&out, heads[0]);
    out.other_heads.assign(heads.begin() + 1, heads.end());
  }
  return out;
}

void View::SetContent(FsInode* out, const v1::FsVersion& version) {
  out->size = version.size();
  uint64_t bytes = 0;
  for (const auto& e : version.extents()) {
    if (!e.hash().empty()) bytes += e.length();
  }
  out->blocks = (bytes + 511) / 512;
  out->winner = version;
}

absl::StatusOr<std::optional<FsInode>> View::CopyInode(uint64_t id, uint64_t ino,
                                                       const std::string& version_id) const {
  LATTICE_ASSIGN_OR_RETURN(auto base, Inode(ino));
  if (!base) return std::nullopt;
  v1::FsVersionRecord version;
  LATTICE_ASSIGN_OR_RETURN(bool found,
                           source_.Read(Key(fs::kVersionTable, ino, version_id), &version));
  if (!found) return std::nullopt;
  return CopyFrom(id, *base, version.version());
}

FsInode View::CopyFrom(uint64_t id, const FsInode& base, const v1::FsVersion& version) {
  FsInode out;
  out.id = id;
  out.attr = base.attr;
  out.attr.set_mode(S_IFREG | (base.attr.mode() & 0444));
  if (version.has_mtime()) *out.attr.mutable_mtime() = version.mtime();
  SetContent(&out, version);
  out.conflict_copy = true;
  out.copy_of = base.id;
  bool losing = false;
  for (const auto& head : base.other_heads) losing |= head.id() == version.id();
  out.live = base.live && losing;
  out.nlink = out.live ? 1 : 0;
  return out;
}

absl::StatusOr<std::optional<FsDirEntryView>> View::Lookup(uint64_t parent,
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
  for (size_t pos = name.find(kFsConflictMarker); pos != std::string_view::npos && pos > 0;
       pos = name.find(kFsConflictMarker, pos + 1)) {
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

absl::StatusOr<std::vector<FsDirEntryView>> View::List(uint64_t dir, uint64_t offset, size_t max,
                                                       bool* end, bool attrs) const {
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
      LATTICE_ASSIGN_OR_RETURN(auto items, ItemsOf(id, attrs));
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

absl::StatusOr<std::vector<FsConflictView>> View::Conflicts(size_t max) const {
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

absl::StatusOr<uint64_t> View::InodeCount() const {
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

}  // namespace lattice::kernel::fs
