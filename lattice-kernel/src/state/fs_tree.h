// The tree of an fs store: a replicated tree with a move operation (Kleppmann et al. 2021).
// Every placement of an entry (a create, a link, a move, an unlink as a move to the trash) is
// a move in the move log, keyed by its stamp (hlc, intention hash, op index). The tree is the
// result of applying the log in stamp order, skipping each move that would put a directory
// under itself; so it depends only on the set of moves, whatever order they arrive in.
//
// A move older than moves already applied undoes them (newest first), applies, and redoes
// them. Only the moves whose outcome or undo record it can change are undone: the later moves
// of the same entry, and, when it moves a directory, the later moves of existing directories
// (a cycle involves directories only: a file has no children, so file moves never change
// whether a directory move makes a cycle). The placement of a new entry (a create or a link)
// undoes nothing: whatever names the new entry follows it causally, so has not been applied
// yet, and a new entry has no descendants, so it changes no later move's outcome; for the
// same reason creates of directories are not among the directory moves later moves undo.
// So the set undone is the renames of directories concurrent with this one (and the entry's
// own later moves); it is not truncated, since dropping part of it would make the tree
// depend on arrival order.
// The walk up from the new parent that refuses a cycle stops after kMaxFsTreeDepth ancestors
// and then skips the move as though it made one: the tree at that stamp is the same on every
// node, so every node skips it alike. (Creates are not walked: a tree deeper than that is
// possible, but no existing directory can be moved into its depths.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_keys.h"
#include "storage/batch_view.h"

namespace lattice::kernel::fs {

absl::StatusOr<std::optional<v1::FsEntryRecord>> ReadEntry(const FsSource& source,
                                                           uint64_t entry);
// An inode's record; the root's is implicit (a directory, mode 0755) until something sets it.
absl::StatusOr<std::optional<v1::FsInodeRecord>> ReadInodeRecord(const FsSource& source,
                                                                 uint64_t ino);

// Where an entry is shown: its place, or its place before the trash while it is in the
// trash (nullopt when it has none).
std::optional<v1::FsPlace> ShownPlace(const v1::FsEntryRecord& entry);

// Applies `move` (entry, inode, dir, parent, name, author, seen_versions set) stamped `at`
// into the move log and the tree. `new_entry`: the placement of an entry a create or link
// makes (REQUIRES: every intention that names the entry follows this one causally).
absl::Status ApplyFsMove(BatchView& view, const std::string& at, v1::FsMoveRecord move,
                         bool new_entry);

}  // namespace lattice::kernel::fs
