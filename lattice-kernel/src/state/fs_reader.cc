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
//
// fs::View (fs_view.h) evaluates these rules; this file keeps the reader's interface and the
// ids and names every node derives alike.
#include "lattice/common/crypto.h"
#include "lattice/common/fs_ids.h"
#include "lattice/common/status.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_content.h"
#include "state/fs_keys.h"
#include "state/fs_reader.h"
#include "state/fs_tree.h"
#include "state/fs_view.h"

namespace lattice::kernel {
namespace {

using fs::Key;

void AppendLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

uint64_t FsDerivedId(std::string_view intention_hash, uint32_t index) {
  std::string input = "lattice/fs/id/v1";
  input.append(intention_hash);
  AppendLe(&input, index, 4);
  return FsIdFromDigest(Blake2b256(input));
}

uint64_t FsCreatedId(const v1::FsOp& op, std::string_view author, std::string_view intention_hash,
                     uint32_t index) {
  if (op.has_create() && !op.create().nonce().empty()) {
    return FsMintedId(author, op.create().nonce());
  }
  return FsDerivedId(intention_hash, index);
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
  return FsIdFromDigest(Blake2b256(input));
}

struct FsReader::Source {
  std::unique_ptr<fs::FsSource> source;
};

FsReader::FsReader(const Database& db, NameOf name_of)
    : source_(std::make_shared<Source>(Source{std::make_unique<fs::DatabaseSource>(db)})),
      name_of_(std::move(name_of)) {}

FsReader::FsReader(BatchView& view, NameOf name_of)
    : source_(std::make_shared<Source>(Source{std::make_unique<fs::ViewSource>(view)})),
      name_of_(std::move(name_of)) {}

absl::StatusOr<std::optional<FsInode>> FsReader::Inode(uint64_t ino) const {
  return fs::View(*source_->source, name_of_).Inode(ino);
}

absl::StatusOr<std::optional<FsDirEntryView>> FsReader::Lookup(uint64_t parent,
                                                               std::string_view name) const {
  return fs::View(*source_->source, name_of_).Lookup(parent, name);
}

absl::StatusOr<std::vector<FsDirEntryView>> FsReader::List(uint64_t dir, uint64_t offset,
                                                           size_t max, bool* end,
                                                           bool attrs) const {
  return fs::View(*source_->source, name_of_).List(dir, offset, max, end, attrs);
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
  return fs::View(*source_->source, name_of_).Conflicts(max);
}

absl::StatusOr<uint64_t> FsReader::InodeCount() const {
  return fs::View(*source_->source, name_of_).InodeCount();
}

}  // namespace lattice::kernel
