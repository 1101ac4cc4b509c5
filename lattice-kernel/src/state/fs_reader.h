// Reads of an fs store's state (the tables FsStateMachine keeps), for the Fs service and for
// the planner that turns a file-system call into an fs.v1 payload. The same reader works on
// the committed database and on a group's BatchView (so a write is planned against the state
// its group's earlier writes left).
//
// Names are shown as a person sees them: when two entries share a name in one directory the
// winner keeps it and every other one is shown as NAME.sync-conflict-YYYYMMDD-HHMMSS-<node>
// (the time of its placement, UTC, and the author that placed it); a file with several
// content heads shows each losing head beside each of its entries, the same way, as a
// read-only copy with its own inode id (FsConflictCopyId).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/common/fs_conflict_names.h"
#include "lattice/v1/fs.pb.h"
#include "storage/batch_view.h"
#include "storage/database.h"

namespace lattice::kernel {

inline constexpr uint64_t kFsRootId = 1;
inline constexpr uint64_t kFsTrashId = 2;

// The id of the object created by op `index` of the intention with hash `hash` (fs.proto).
uint64_t FsDerivedId(std::string_view intention_hash, uint32_t index);
// The id of the object op `index` (`op`) of an intention creates: a create with a nonce makes
// FsMintedId(author, nonce) (lattice/common/fs_ids.h), which its client knew before sending
// it; any other create or link makes FsDerivedId(hash, index).
uint64_t FsCreatedId(const v1::FsOp& op, std::string_view author, std::string_view intention_hash,
                     uint32_t index);

// Inside one payload, an op names an object an earlier op of the same payload creates by
// FsOpRef(that op's index): the payload is built before its intention's hash is known, so the
// state machine resolves the reference to FsDerivedId(hash, index) when it applies the op.
// Derived ids have the top bit clear, so the two never meet.
inline constexpr uint64_t kFsOpRefBit = 1ull << 63;
inline constexpr uint64_t FsOpRef(uint32_t index) { return kFsOpRefBit | index; }
inline constexpr bool IsFsOpRef(uint64_t id) { return (id & kFsOpRefBit) != 0; }
// A version id: intention hash || le32(op index).
std::string FsVersionId(std::string_view intention_hash, uint32_t index);

// The inode id of the read-only copy showing version `version_id` of `ino` while it is a
// losing head: the first 8 bytes of BLAKE2b-256("lattice/fs/copy/v1" || le64(ino) ||
// version id), little-endian, top bit cleared, ids below 16 moved up by 16 (as FsDerivedId).
uint64_t FsConflictCopyId(uint64_t ino, std::string_view version_id);

// A conflict copy's name is FsConflictName (lattice/common/fs_conflict_names.h) of the
// name, the time and the node's name as the root store has it (its short id when it has none).

struct FsInode {
  uint64_t id = 0;
  v1::FsAttr attr;             // mode carries the type bits
  uint64_t size = 0;
  uint32_t nlink = 0;          // live entries (directories: 2 + subdirectories)
  uint64_t blocks = 0;         // 512-byte blocks of the winner's non-hole extents
  std::string symlink_target;
  std::optional<v1::FsVersion> winner;       // regular files with content
  std::vector<v1::FsVersion> other_heads;    // concurrent versions (conflicts), winner excluded
  bool conflict_copy = false;  // a losing head shown as its own read-only file
  uint64_t copy_of = 0;        // a conflict copy's inode: the file whose head it shows
                               // (the head is `winner`)
  bool live = true;            // false once no entry of it is visible (unlinked; open files
                               // may still read it)
};

struct FsDirEntryView {
  std::string name;            // as shown
  uint64_t entry = 0;          // the entry id (0 for a conflict copy of a version)
  uint64_t inode = 0;
  uint32_t mode = 0;
  uint64_t offset = 0;         // stable readdir offset: resume after this entry
  std::optional<FsInode> attrs;  // with List's `attrs`: what Inode(inode) shows
};

// What a conflict a person should know about is.
struct FsConflictView {
  uint64_t parent = 0;
  std::string name;            // as shown (the copy's)
  std::string original;        // the name that kept its place
  uint64_t inode = 0;
  std::string version;         // content conflicts; empty for a name conflict
  std::string author;          // the author's name as NameOf gives it
  v1::Hlc hlc;                 // of the losing version, or of the losing entry's placement
};

// Reads through a callback pair so it serves a Database and a BatchView alike. Read errors
// come back as statuses (a BatchView's reads report absence and remember the error).
class FsReader {
 public:
  // The node name of an author (its 32-byte id), for conflict names; empty (or a null
  // function) shows the author's short hex id instead.
  using NameOf = std::function<std::string(std::string_view author)>;
  FsReader(const Database& db, NameOf name_of);
  FsReader(BatchView& view, NameOf name_of);

  absl::StatusOr<std::optional<FsInode>> Inode(uint64_t ino) const;
  absl::StatusOr<std::optional<FsDirEntryView>> Lookup(uint64_t parent, std::string_view name) const;
  // Entries of `dir` after `offset` (0: from the start), at most `max`; `end` says none follow.
  // Ordered by entry id: an entry's offset is 2 * its id (ids are at least 16, so offsets
  // never meet 1 and 2, free for "." and ".."), its conflict copies' 2 * id + 1; a page keeps
  // an entry's copies together (fs_reader.cc).
  // With `attrs`, each entry comes with its inode as Inode shows it, made from the records
  // the listing reads anyway (a listing with attributes reads each record once).
  absl::StatusOr<std::vector<FsDirEntryView>> List(uint64_t dir, uint64_t offset, size_t max,
                                                   bool* end, bool attrs = false) const;
  // Where the entry is now: its parent and name as stored (not as shown).
  absl::StatusOr<std::optional<std::pair<uint64_t, std::string>>> PlaceOf(uint64_t entry) const;
  // The version of `ino` with this id, head or not, while its record is kept.
  absl::StatusOr<std::optional<v1::FsVersion>> Version(uint64_t ino, std::string_view id) const;
  // Versions of `ino` newest first (heads and replaced ones), at most `max`, with the ids
  // each replaced.
  absl::StatusOr<std::vector<std::pair<v1::FsVersion, std::vector<std::string>>>> History(
      uint64_t ino, size_t max) const;
  absl::StatusOr<std::optional<std::string>> Xattr(uint64_t ino, std::string_view name) const;
  absl::StatusOr<std::vector<std::string>> XattrNames(uint64_t ino) const;
  absl::StatusOr<std::vector<FsConflictView>> Conflicts(size_t max) const;
  // Live inodes, for statfs.
  absl::StatusOr<uint64_t> InodeCount() const;

 private:
  struct Source;
  std::shared_ptr<Source> source_;
  NameOf name_of_;
};

}  // namespace lattice::kernel
