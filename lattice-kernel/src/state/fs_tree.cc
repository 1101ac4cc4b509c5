#include "state/fs_tree.h"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "lattice/common/fs_limits.h"
#include "lattice/common/status.h"
#include "state/fs_reader.h"
#include "storage/keys.h"

namespace lattice::kernel::fs {
namespace {

std::string ChildValue(bool placed, bool dir) {
  return std::string{placed ? kChildPlaced : kChildTrashed, dir ? kChildDir : kChildOther};
}

void RemoveIndexes(BatchView& view, uint64_t id, const v1::FsEntryRecord& entry) {
  if (auto shown = ShownPlace(entry)) {
    view.Delete(ChildKey(shown->parent(), id));
    if (entry.dir()) view.Delete(SubdirKey(shown->parent(), id));
    view.Delete(NameKey(shown->parent(), shown->name(), id));
  }
}

void AddIndexes(BatchView& view, uint64_t id, const v1::FsEntryRecord& entry) {
  if (auto shown = ShownPlace(entry)) {
    std::string value = ChildValue(entry.place().parent() != kFsTrashId, entry.dir());
    view.Put(ChildKey(shown->parent(), id), value);
    if (entry.dir()) view.Put(SubdirKey(shown->parent(), id), value);
    view.Put(NameKey(shown->parent(), shown->name(), id), "");
  }
}

// True when placing directory `entry` under `parent` would make a cycle, or when the walk up
// from `parent` passes kMaxFsTreeDepth ancestors (skipped alike on every node).
absl::StatusOr<bool> MakesCycle(const FsSource& source, uint64_t entry, uint64_t parent) {
  uint64_t at = parent;
  for (size_t depth = 0; at != kFsRootId && at != kFsTrashId; ++depth) {
    if (at == entry || depth >= limits::kMaxFsTreeDepth) return true;
    LATTICE_ASSIGN_OR_RETURN(auto up, ReadEntry(source, at));
    if (!up) return false;  // not reachable: a parent is a directory with an entry
    at = up->place().parent();
  }
  return false;
}

// Applies one move to the tree as it stands, filling in its outcome and undo record.
absl::Status Do(BatchView& view, const std::string& at, v1::FsMoveRecord* move) {
  ViewSource source(view);
  LATTICE_ASSIGN_OR_RETURN(auto before, ReadEntry(source, move->entry()));
  move->set_existed(before.has_value());
  if (before) {
    *move->mutable_before() = *before;
  } else {
    move->clear_before();
  }
  // A new directory has no descendants, so placing it makes no cycle (and its depth is not
  // walked: a tree may grow deeper than the walk goes by creates alone).
  if (move->dir() && before) {
    LATTICE_ASSIGN_OR_RETURN(bool cycle, MakesCycle(source, move->entry(), move->parent()));
    move->set_skipped(cycle);
    if (cycle) return absl::OkStatus();
  } else {
    move->set_skipped(false);
  }
  v1::FsEntryRecord after;
  if (before) {
    after = *before;
    RemoveIndexes(view, move->entry(), *before);
  } else {
    after.set_inode(move->inode());
    after.set_dir(move->dir());
    view.Put(Key(kInodeEntriesTable, move->inode(), Be64(move->entry())), "");
  }
  if (move->parent() == kFsTrashId) {
    if (before && before->place().parent() != kFsTrashId) {
      *after.mutable_before_trash() = before->place();
    }
    *after.mutable_seen_versions() = move->seen_versions();
  } else {
    after.clear_before_trash();
    after.clear_seen_versions();
  }
  v1::FsPlace* place = after.mutable_place();
  place->set_parent(move->parent());
  place->set_name(move->name());
  place->set_at(at);
  place->set_author(move->author());
  place->set_seq(move->seq());
  AddIndexes(view, move->entry(), after);
  view.Put(Key(kEntryTable, move->entry()), after.SerializeAsString());
  return absl::OkStatus();
}

absl::Status Undo(BatchView& view, const v1::FsMoveRecord& move) {
  if (move.skipped()) return absl::OkStatus();
  ViewSource source(view);
  LATTICE_ASSIGN_OR_RETURN(auto now, ReadEntry(source, move.entry()));
  if (now) RemoveIndexes(view, move.entry(), *now);
  if (move.existed()) {
    AddIndexes(view, move.entry(), move.before());
    view.Put(Key(kEntryTable, move.entry()), move.before().SerializeAsString());
  } else {
    view.Delete(Key(kEntryTable, move.entry()));
    view.Delete(Key(kInodeEntriesTable, move.inode(), Be64(move.entry())));
  }
  return absl::OkStatus();
}

// Stamps of the log after `at` kept under `prefix` (prefix stamp -> "").
absl::Status LaterStamps(const FsSource& source, const std::string& prefix,
                         const std::string& at, std::vector<std::string>* out) {
  return source.Scan(prefix + at, keys::PrefixEnd(prefix),
                     [&](std::string_view key, std::string_view) {
                       std::string_view stamp = key.substr(prefix.size());
                       if (stamp != at) out->emplace_back(stamp);
                       return true;
                     });
}

}  // namespace

absl::StatusOr<std::optional<v1::FsEntryRecord>> ReadEntry(const FsSource& source,
                                                           uint64_t entry) {
  v1::FsEntryRecord record;
  LATTICE_ASSIGN_OR_RETURN(bool found, source.Read(Key(kEntryTable, entry), &record));
  if (!found) return std::nullopt;
  return record;
}

absl::StatusOr<std::optional<v1::FsInodeRecord>> ReadInodeRecord(const FsSource& source,
                                                                 uint64_t ino) {
  v1::FsInodeRecord record;
  LATTICE_ASSIGN_OR_RETURN(bool found, source.Read(Key(kInodeTable, ino), &record));
  if (found) return record;
  if (ino == kFsRootId) {
    record.set_type(S_IFDIR);
    record.mutable_perm()->set_value(0755);
    return record;
  }
  return std::nullopt;
}

std::optional<v1::FsPlace> ShownPlace(const v1::FsEntryRecord& entry) {
  if (entry.place().parent() != kFsTrashId) return entry.place();
  if (entry.has_before_trash() && entry.before_trash().parent() != 0) return entry.before_trash();
  return std::nullopt;
}

absl::Status ApplyFsMove(BatchView& view, const std::string& at, v1::FsMoveRecord move,
                         bool new_entry) {
  ViewSource source(view);
  std::vector<std::string> later;
  if (!new_entry) {
    LATTICE_RETURN_IF_ERROR(
        LaterStamps(source, TablePrefix(kEntryMovesTable) + Be64(move.entry()), at, &later));
    if (move.dir()) {
      LATTICE_RETURN_IF_ERROR(LaterStamps(source, TablePrefix(kDirMovesTable), at, &later));
    }
  }
  std::sort(later.begin(), later.end());
  later.erase(std::unique(later.begin(), later.end()), later.end());

  std::vector<v1::FsMoveRecord> undone(later.size());
  for (size_t i = later.size(); i-- > 0;) {
    LATTICE_ASSIGN_OR_RETURN(bool found,
                             source.Read(TablePrefix(kMoveLogTable) + later[i], &undone[i]));
    if (!found) return absl::DataLossError("the fs move log lost a move its index names");
    LATTICE_RETURN_IF_ERROR(Undo(view, undone[i]));
  }
  LATTICE_RETURN_IF_ERROR(Do(view, at, &move));
  view.Put(TablePrefix(kMoveLogTable) + at, move.SerializeAsString());
  view.Put(TablePrefix(kEntryMovesTable) + Be64(move.entry()) + at, "");
  if (move.dir() && !new_entry) view.Put(TablePrefix(kDirMovesTable) + at, "");
  for (size_t i = 0; i < later.size(); ++i) {
    LATTICE_RETURN_IF_ERROR(Do(view, later[i], &undone[i]));
    view.Put(TablePrefix(kMoveLogTable) + later[i], undone[i].SerializeAsString());
  }
  return absl::OkStatus();
}

}  // namespace lattice::kernel::fs
