// Turns one file-system call of the Fs service into the fs.v1 payload that carries it out,
// against the state an FsReader shows (the store writer's BatchView, so the checks and the
// write cannot be separated by another local write). POSIX semantics live here: which errno a
// call fails with, and which times it touches (a parent directory's mtime and ctime when its
// entries change, an inode's ctime when its attributes, links or xattrs change, setuid and
// setgid cleared on chown; the VFS above lattice-fuse clears them on a write).
//
// An op of the payload names an inode the same payload creates by FsOpRef(index); the caller
// learns the created inode's id from the intention's hash as FsDerivedId(hash, index). A
// create with a nonce mints its id instead (FsMintedId of the planner's author): the plan
// answers with it, and the calls planned after it by the same planner see the new inode.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/fs.pb.h"
#include "lattice/v1/fs_service.pb.h"
#include "state/fs_reader.h"

namespace lattice::kernel {

// Links of one inode at most, as ext4 allows (EMLINK beyond).
inline constexpr uint32_t kMaxFsLinks = 65000;

struct FsPlan {
  v1::FsPayload payload;
  // Nothing had to change (a rename onto itself, a truncate to the same size with no times):
  // the payload is empty and no intention is written.
  bool no_change = false;
  // The op whose created object the call answers with (Create's new inode), or -1.
  int created_op = -1;
  // The inode the call answers with otherwise (Link, SetAttr, Commit, Restore), or 0.
  uint64_t inode = 0;
  // The time stamped on the directories whose entries the plan changes (TouchDir), if any.
  std::optional<v1::FsTime> stamped;
  // Rename: a directory is moved, replaced or exchanged.
  bool moved_directory = false;
  // Rename: the inodes whose own attributes change (FsChangeReply.touched).
  std::vector<uint64_t> touched;
};

// Chunks cut short for a truncate: (source chunk, prefix length) -> the hash of that prefix
// stored as a chunk of its own. The service stores them before it plans (a chunk is read
// outside the store's writer).
using FsCutChunks = std::map<std::pair<std::string, uint64_t>, std::string>;

// Checks a name given to the file system: not empty, no '/' or NUL, not '.' or '..' (EINVAL),
// at most limits::kMaxFsNameBytes (ENAMETOOLONG).
absl::Status CheckFsCallName(std::string_view name);

// The time now with nanoseconds, as the kernel stamps file times.
v1::FsTime FsNow();
// A time a caller gives (utimes, a commit's mtime and ctime, a create's) must be a valid
// timespec: EINVAL otherwise.
absl::Status CheckFsTime(const v1::FsTime& time);

// The extents of `version` cut or extended (with a hole) to `size`. A cut inside a chunk
// needs that chunk's prefix in `cut` (FsCutNeeded says which); EAGAIN when it is missing.
absl::StatusOr<std::vector<v1::FsExtent>> FsResizeExtents(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents, uint64_t size,
    const FsCutChunks& cut);
// The chunk and prefix length a truncate of `extents` to `size` cuts inside, if any.
std::optional<std::pair<std::string, uint64_t>> FsCutNeeded(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents, uint64_t size);

// Checks a commit's extents against the limits: hashes of 32 bytes or empty (a hole),
// chunk lengths within limits::kFsChunkMaxBytes, lengths summing to `size`.
absl::Status CheckFsExtents(const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents,
                            uint64_t size);

class FsPlanner {
 public:
  // `author`: the key signing the intention, which minted ids are made of (empty: a create
  // with a nonce is refused).
  FsPlanner(const FsReader& reader, v1::FsTime now, std::string author = {})
      : reader_(reader), now_(std::move(now)), author_(std::move(author)) {}

  absl::StatusOr<FsPlan> Create(const v1::FsCreateRequest& request);
  absl::StatusOr<FsPlan> Link(const v1::FsLinkRequest& request);
  absl::StatusOr<FsPlan> Remove(const v1::FsRemoveRequest& request);
  absl::StatusOr<FsPlan> Rename(const v1::FsRenameRequest& request);
  absl::StatusOr<FsPlan> SetAttr(const v1::FsSetAttrRequest& request, const FsCutChunks& cut);
  // The chunks must already be in the chunk store (the service checks).
  absl::StatusOr<FsPlan> Commit(const v1::FsCommitRequest& request);
  absl::StatusOr<FsPlan> Restore(const v1::FsRestoreRequest& request);
  absl::StatusOr<FsPlan> SetXattr(const v1::FsXattrRequest& request);
  absl::StatusOr<FsPlan> RemoveXattr(const v1::FsXattrRequest& request);

 private:
  // The inode `ino` (ENOENT when unknown; the trash is never one). `live_only`: an inode
  // no entry shows any more is ENOENT too.
  absl::StatusOr<FsInode> InodeOf(uint64_t ino, bool live_only) const;
  // A live directory that may hold new entries (ENOENT, ENOTDIR).
  absl::StatusOr<FsInode> DirectoryOf(uint64_t ino) const;
  // A regular file that may get new content (EISDIR, EINVAL, EROFS for a conflict copy).
  absl::StatusOr<FsInode> WritableFileOf(uint64_t ino) const;
  // Whether `dir` is `ancestor` or lies beneath it.
  absl::StatusOr<bool> IsWithin(uint64_t dir, uint64_t ancestor) const;
  absl::StatusOr<bool> IsEmptyDir(uint64_t dir) const;
  // The real inode and version a version's conflict copy (an entry with entry id 0) shows.
  absl::StatusOr<std::pair<uint64_t, std::string>> CopyOf(uint64_t parent,
                                                          const FsDirEntryView& entry) const;

  // Ops, appended to `plan`.
  void TouchDir(FsPlan& plan, uint64_t dir) const;     // mtime and ctime
  void TouchCtime(FsPlan& plan, uint64_t ino) const;
  // Moves `entry` (showing `inode`) to the trash, naming the versions the caller saw.
  void Unlink(FsPlan& plan, const FsDirEntryView& entry, const FsInode& inode) const;

  const FsReader& reader_;
  v1::FsTime now_;
  std::string author_;
  // Inodes minted by the creates planned so far, and their names: not in the state yet.
  std::map<uint64_t, FsInode> minted_;
  std::set<std::pair<uint64_t, std::string>> minted_names_;
};

}  // namespace lattice::kernel
