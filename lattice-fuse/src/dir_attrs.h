// The attributes of directories, kept by lattice-fuse between the FUSE kernel module's
// GETATTRs. The module drops a directory's attributes whenever a name is made or removed in
// it, and asks for them again before its next permission check there: without this cache,
// every file created costs a GetAttr call to the kernel. An entry is answered for the
// attribute timeout after it was fetched, and stays exact meanwhile because this daemon's
// own creates in the directory are folded in (the kernel stamps the directory's mtime and
// ctime with the new inode's ctime, and a new subdirectory adds a link), and so are its
// renames and unlinks of files (the kernel answers with the time it stamped); any
// other change of a directory, made here or heard from elsewhere, drops its entry (a rename
// of a directory drops all, as it changes the ctime of an inode it does not name).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "lattice/v1/fs_service.pb.h"

namespace lattice::fuse {

class DirAttrCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit DirAttrCache(Clock::duration keep) : keep_(keep) {}

  // The attributes of directory `ino`, when an entry is fresh.
  std::optional<v1::FsStat> Find(uint64_t ino, Clock::time_point now = Clock::now());
  // What to pass to Put for a fetch that starts now.
  uint64_t generation() const;
  // Keeps `stat` (of a directory) fetched since `generation()` returned `generation`, unless
  // something changed meanwhile.
  void Put(const v1::FsStat& stat, uint64_t generation, Clock::time_point now = Clock::now());
  // This daemon made `child` in directory `parent`.
  void NoteCreated(uint64_t parent, const v1::FsStat& child);
  // This daemon moved a file (no directory) from `parent` to `new_parent`, which the kernel
  // stamped with `stamp`.
  void NoteRenamed(uint64_t parent, uint64_t new_parent, const v1::FsTime& stamp);
  // This daemon removed a name of a non-directory from `parent` at `time`: the moment it
  // answered the unlink, before the kernel stamped the directory (removals.h), then the
  // time the kernel answered it stamped.
  void NoteRemoved(uint64_t parent, const v1::FsTime& time);
  // This daemon removed the empty directory `dir` from `parent`, which the kernel stamped
  // with `stamp`: the parent lost the link of the subdirectory's "..".
  void NoteDirRemoved(uint64_t parent, uint64_t dir, const v1::FsTime& stamp);
  void Forget(uint64_t ino);
  void ForgetAll();

 private:
  static constexpr size_t kMaxEntries = 4096;
  struct Entry {
    v1::FsStat stat;
    Clock::time_point until;
  };
  // REQUIRES: mu_ held. Moves `dir`'s mtime and ctime on to `stamp`, a change made here;
  // its entry, or null when none is kept.
  Entry* StampLocked(uint64_t dir, const v1::FsTime& stamp);
  const Clock::duration keep_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace lattice::fuse
