// fs::View: the rules stated at the top of fs_reader.cc, evaluated over one source (the
// database or a batch being built). Which entries are shown and by what name is in
// fs_view.cc; what they show (inodes, listings, lookups, conflicts, counts) in
// fs_view_reads.cc. A View is made for one call and holds references only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_keys.h"
#include "state/fs_reader.h"

namespace lattice::kernel::fs {

class View {
 public:
  View(const FsSource& source, const FsReader::NameOf& name_of)
      : source_(source), name_of_(name_of) {}

  std::string NodeName(std::string_view author) const;

  // Ids under `prefix` (prefix be64(id) ...), read before anything else is, so no read
  // happens while a scan holds the database.
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> IdsUnder(
      const std::string& prefix) const;

  // Whether trashed file entry `rec` is shown at its old place (delete versus edit): it is
  // the inode's entry trashed last, no entry of the inode is placed, and a head exists that
  // its unlink did not see and that does not follow it in the unlinker's own chain.
  absl::StatusOr<bool> KeptByEdit(const v1::FsEntryRecord& rec) const;

  absl::StatusOr<bool> HasShownChild(uint64_t dir, size_t depth) const;

  absl::StatusOr<bool> Shown(const v1::FsEntryRecord& rec, size_t depth = 0) const;

  // A removed directory whose old place has since been moved under it would be shown inside
  // itself: it is not shown (what it holds is then out of sight, as in the trash).
  bool ShownUnderItself(const v1::FsEntryRecord& rec) const;

  // Shown entries under (dir, name) with their records, but entry `skip` (not read).
  absl::StatusOr<std::vector<std::pair<uint64_t, v1::FsEntryRecord>>> Named(
      uint64_t dir, std::string_view name, uint64_t skip = 0) const;

  // The name entry `id` (shown at `place`) is shown by.
  absl::StatusOr<std::string> ShownName(uint64_t id, const v1::FsPlace& place) const;

  // The items a shown entry brings to its directory's listing: itself, then its copies;
  // with `attrs`, each with its inode (FsDirEntryView::attrs).
  absl::StatusOr<std::vector<FsDirEntryView>> Items(uint64_t id, const v1::FsEntryRecord& rec,
                                                    bool attrs = false) const;

  absl::StatusOr<std::vector<FsDirEntryView>> ItemsOf(uint64_t id, bool attrs = false) const;

  // Shown entries of an inode; `shown_entry`, one of them known to be shown, is not read.
  absl::StatusOr<uint32_t> ShownEntries(uint64_t ino, uint64_t shown_entry = 0) const;

  absl::StatusOr<uint32_t> ShownSubdirs(uint64_t dir) const;

  absl::StatusOr<std::optional<FsInode>> Inode(uint64_t ino) const;

  // Inode `ino` as shown, from its record and (a regular file) its heads in winning order,
  // read already; `shown_entry`: an entry of it known to be shown (0: none).
  absl::StatusOr<FsInode> InodeFrom(uint64_t ino, const v1::FsInodeRecord& record,
                                    const std::vector<v1::FsVersion>& heads,
                                    uint64_t shown_entry) const;

  static void SetContent(FsInode* out, const v1::FsVersion& version);

  absl::StatusOr<std::optional<FsInode>> CopyInode(uint64_t id, uint64_t ino,
                                                   const std::string& version_id) const;
  // Conflict copy `id` of inode `base` showing its version `version`.
  static FsInode CopyFrom(uint64_t id, const FsInode& base, const v1::FsVersion& version);

  absl::StatusOr<std::optional<FsDirEntryView>> Lookup(uint64_t parent,
                                                       std::string_view name) const;

  absl::StatusOr<std::vector<FsDirEntryView>> List(uint64_t dir, uint64_t offset, size_t max,
                                                   bool* end, bool attrs = false) const;

  absl::StatusOr<std::vector<FsConflictView>> Conflicts(size_t max) const;

  absl::StatusOr<uint64_t> InodeCount() const;

 private:
  const FsSource& source_;
  const FsReader::NameOf& name_of_;
};

}  // namespace lattice::kernel::fs
