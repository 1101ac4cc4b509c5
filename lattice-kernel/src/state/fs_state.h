// The fs state machine (op_type fs.v1): the tables of an fs store (state/fs_keys.h) from the
// set of applied fs.v1 intentions. fs.proto is the spec; the choices it leaves open:
//
// - Validity. A payload that does not parse, breaks a limit, has a malformed name, or names
//   an object that does not exist or is of the wrong kind (a parent that is not a directory,
//   a link to a directory, a write to what is not a regular file, a move of the root or the
//   trash, an FsOpRef to a later op or to an op that creates nothing) is refused whole: Apply
//   returns the reason and writes nothing (a recorded no-op). Every object an op may name was
//   created by an intention its author had applied, so on any node it exists when the op is
//   applied: validity does not depend on arrival order.
// - A write in delta form (FsWrite.base, splices) is resolved against its base version into
//   the full extent list, and only that is kept, so readers never see splices. Its base's
//   intention must be the writing intention's prev or one of its deps (checked on the
//   intention itself), hence applied first on every node; a base that is then missing (never
//   a version of that inode, or its write refused everywhere), or splices that do not fit
//   it, refuse the payload on every node alike.
// - Nothing is ever deleted: an unlink is a move to the trash. An op that meets a concurrent
//   change still takes effect by its own rule rather than failing: a move of an entry someone
//   else moved or unlinked is a move like any other (the latest placement wins, so a rename
//   concurrent with an unlink keeps the file when the rename is later); a write to a file
//   unlinked meanwhile adds a version (and keeps the file visible under the name whose
//   unlink was the last, delete versus edit; names removed before it stay removed); a
//   link to an inode whose entries are all in the trash makes it live again; a move that would
//   make a cycle is skipped (fs_tree.h).
// - Attributes, xattrs: last-writer-wins registers per attribute by stamp (hlc, hash, op).
//   The machine sets no time itself; a write's mtime/ctime, when present, are registers at
//   the write's stamp. The root (1) exists implicitly as S_IFDIR|0755 owned by 0:0.
// - Limits that concurrent writers could break together (kMaxFsXattrsPerInode, a
//   directory's size) are the planner's to enforce: refusing here would depend on which of
//   two concurrent writes arrived first.
// - What is shown (visibility, names, nlink) is computed by FsReader from these tables; see
//   fs_reader.cc for the rules.
#pragma once

#include "state/state_machine.h"

namespace lattice::kernel {

class FsStateMachine final : public StateMachine {
 public:
  std::string_view op_type() const override;
  absl::Status Apply(BatchView& view, const DecodedIntention& intention,
                     Freshness freshness) override;
};

}  // namespace lattice::kernel
