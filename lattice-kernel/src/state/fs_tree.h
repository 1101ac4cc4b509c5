// The tree of an fs store: a replicated tree with a move operation (Kleppmann et al. 2021).
// Every placement of an entry (a create, a link, a move, an unlink as a move to the trash) is
// a move in the move log, keyed by its stamp (hlc, intention hash, op index). The tree is the
// result of applying the log in stamp order, skipping each move that would put a directory
// under itself; so it depends only on the set of moves, whatever order they arrive in.
//
// A move older than moves already applied undoes them (newest first), applies, and redoes
// them. Only the moves whose outcome or undo record it can change are undone: the later moves
// of the same entry, and, when it moves a directory, the later moves of directories (a cycle
// involves directories only: a file has no children, so file moves never change whether a
// directory move makes a cycle). That set is the directory moves concurrent with this one, and
// it is not truncated: dropping part of it would make the tree depend on arrival order.
// The walk up from the new parent that refuses a cycle stops after kMaxFsTreeDepth ancestors
// and then skips the move as though it made one: the tree at that stamp is the same on every
// node, so every node skips it alike.
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

// Where an entry is shown: its place, or its place before the trash while it is in the
// trash (nullopt when it has none).
std::optional<v1::FsPlace> ShownPlace(const v1::FsEntryRecord& entry);

// Applies `move` (entry, inode, dir, parent, name, author, seen_versions set) stamped `at`
// into the move log and the tree.
absl::Status ApplyFsMove(BatchView& view, const std::string& at, v1::FsMoveRecord move);

}  // namespace lattice::kernel::fs
