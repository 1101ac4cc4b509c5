// The names of the directories this daemon made or listed whole, so that the Lookup the FUSE
// kernel module sends before every create (is the new name free?) is answered here instead
// of by a call to the kernel: in such a directory, a name not made or listed there is absent
// (and one that is names the inode it was made or listed with: Present).
// (A conflict copy's name is always asked: the kernel finds those by their form.)
//
// What keeps that true: the directory starts empty when made here; this daemon's own
// creates in it are added, its renames of files followed (the kernel answers with the time
// it stamped) and its changes of the directory's attributes too (with the times the kernel
// answers); any other change this daemon makes to it (unlink, a rename of a directory,
// link, rmdir, xattrs), or hears of through the watch (from another node, or from another
// client of this node such as lattice-ctl), forgets it. A change the watch has not delivered
// yet (or missed while it reconnected) is not known here, so the answer is trusted for
// `trust` (the entry timeout: as long as the FUSE module keeps any negative entry) after the
// directory was made or last verified; then one GetAttr of the directory verifies it again:
// the kernel stamps a directory's mtime and ctime at every change of its entries, so times
// equal to those of the last change made here mean no other change was made, and anything
// else forgets it.
//
// A directory whose every name is known with its inode and the offset the kernel lists it at
// (made here, its entries created or renamed here, or listed whole) is also listed here
// (ListAfter): the caller answers a READDIR itself once the watch has heard every change the
// kernel applied (Watcher::HeardAll), so none that could alter the listing is missing. The
// kernel lists a directory's entries by entry id, at offset 2 * id (a conflict copy at
// 2 * id + 1); an entry created keeps the id of its inode, and a rename moves the entry.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lattice/v1/fs_service.pb.h"

namespace lattice::fuse {

class KnownNames {
 public:
  using Clock = std::chrono::steady_clock;
  explicit KnownNames(Clock::duration trust) : trust_(trust) {}

  // One name of a known directory as the kernel lists it; offset 0: not known here (a
  // file moved in from a directory not known), and the directory is then not listed here.
  struct Entry {
    uint64_t ino = 0;
    uint32_t type = 0;  // the S_IFMT bits of its mode
    uint64_t offset = 0;
  };
  struct Listed {
    std::string name;
    Entry entry;
  };

  enum class Answer {
    kAbsent,  // the name is not in the directory
    kVerify,  // known, but the trust lapsed: Verify with the directory's attributes first
    kAsk,     // unknown here: ask the kernel
  };
  Answer Find(uint64_t parent, const std::string& name, Clock::time_point now = Clock::now());
  // The entry of `name` in known directory `parent` while the directory is trusted (as
  // Find's kAbsent is), when its inode is known; nothing otherwise.
  std::optional<Entry> Present(uint64_t parent, const std::string& name,
                               Clock::time_point now = Clock::now());
  // `dir` as the kernel shows it now: renews the trust when its times are those of the last
  // change made here (returns true), else forgets the directory.
  bool Verify(const v1::FsStat& dir, Clock::time_point now = Clock::now());

  // This daemon made `child` as `name` in `parent` (a directory made is known from now).
  void NoteCreated(uint64_t parent, const std::string& name, const v1::FsStat& child,
                   Clock::time_point now = Clock::now());
  // This daemon set attributes of directory `dir` (a chmod, chown or utimes: its names are
  // unchanged), which the kernel answered with `dir`: its times are those of this change.
  void NoteAttrsSet(const v1::FsStat& dir);
  // This daemon renamed `name` in `parent` to `new_name` in `new_parent` (or exchanged the
  // two: both stay), a move of no directory, and the kernel stamped both directories with
  // `stamp`.
  void NoteRenamed(uint64_t parent, const std::string& name, uint64_t new_parent,
                   const std::string& new_name, bool exchange, const v1::FsTime& stamp);
  // How many times a directory (or all) was forgotten: taken before a listing is asked for.
  uint64_t forgets() const { return forgets_.load(); }
  // `names` are all the names of directory `dir` (as the kernel listed them, in a state
  // where the directory had `dir`'s times): known from now, unless a directory was
  // forgotten since `forgets` was taken (a change heard meanwhile may postdate the listing).
  void NoteListed(const v1::FsStat& dir, const std::vector<Listed>& names, uint64_t forgets,
                  Clock::time_point now = Clock::now());
  // The names of known directory `dir` listed after `offset`, in the kernel's order, when
  // every one's offset is known and they are at most `max_names`; false otherwise.
  bool ListAfter(uint64_t dir, uint64_t offset, size_t max_names, std::vector<Listed>* out);
  void Forget(uint64_t dir);
  void ForgetAll();

 private:
  // A tree unpacked here (rsync, tar, git checkout) makes thousands of directories; the
  // names bound the memory.
  static constexpr size_t kMaxDirs = 16384;
  static constexpr size_t kMaxNames = 200'000;  // of all directories together
  using Names = std::unordered_map<std::string, Entry>;
  struct Dir {
    Names names;
    v1::FsTime mtime;  // as the kernel stamped them at the last change made here
    v1::FsTime ctime;
    Clock::time_point until;
    // A change made here at `stamp`; changes answered out of order keep the latest.
    void Stamp(const v1::FsTime& stamp);
  };
  // REQUIRES: mu_ held. `dir` is known from now with `names` (past the bound on
  // directories, every other is forgotten first).
  void AddDir(const v1::FsStat& dir, Names names, Clock::time_point now);
  // REQUIRES: mu_ held. `name` was made in `dir` at `stamp`; past the bound on names, the
  // directory is forgotten instead.
  void AddName(std::unordered_map<uint64_t, Dir>::iterator dir, const std::string& name,
               const Entry& entry, const v1::FsTime& stamp);
  const Clock::duration trust_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Dir> dirs_;
  size_t names_ = 0;
  std::atomic<uint64_t> forgets_{0};
};

}  // namespace lattice::fuse
