// Creates answered here and sent to the kernel later. A tool that makes many files (tar,
// cp -r, git checkout, a build) waits for none of the kernel's writes: creat(2) of a regular
// file, or mkdir(2), in a directory whose names this daemon knows (one it made) is answered
// at once, with the inode id the mount mints itself (FsMintedId of the node's key and a
// random nonce, which the kernel gives the file when the create arrives), and the create
// goes with the file's first content in the write-back's CommitMany after close: one call
// and one intention for a batch of files. Nothing may ask the kernel about a name or an
// inode it has not been told of yet, so every other kernel call of the daemon whose answer
// a waiting create could change first sends the creates answered before it
// (FileSystem::SendPendingCreates, KernelLink's before-call hook; Affects, AffectsInode).
// A crash of lattice-fuse before a create is sent loses the file (with its unsaved content,
// as the write-back already does for files closed and not yet committed).
//
// Thread-safe. A create is pending (answered, not sent), then in flight (taken by a sender),
// then done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lattice/v1/fs_service.pb.h"

namespace lattice::fuse {

struct PendingCreate {
  uint64_t ino = 0;
  v1::FsCreateRequest request;
  uint64_t seq = 0;  // answer order: a directory's create comes before those made in it
};

class PendingCreates {
 public:
  // Queues the create of `ino` (a minted id, not yet known to the kernel). Returns how many
  // wait now: the caller bounds them by sending (each is lost in a crash).
  size_t Add(uint64_t ino, v1::FsCreateRequest request);
  // Whether no create waits or is in flight (a cheap test before every kernel call).
  bool Quiet() const { return count_.load(std::memory_order_acquire) == 0; }
  // Whether `ino`'s create waits or is in flight.
  bool Pending(uint64_t ino) const;
  // Whether the kernel's answer about `name` in `parent` may depend on a create that waits
  // or is in flight: one of that name there, or of `parent` itself.
  bool Affects(uint64_t parent, const std::string& name) const;
  // Whether the kernel's answer about inode `ino` may depend on one: its own, one made in
  // it (a directory's links and times), or one replacing it (its links).
  bool AffectsInode(uint64_t ino) const;

  // Gives the waiting create of a regular file named (parent, name) the name (new_parent,
  // new_name): a file renamed before its create was sent is created under its new name,
  // replacing the file `replaces` there (0: none). False when no such create waits under
  // that name (none, a directory's, one taken by a sender already, or one that replaces a
  // file where it is: moved, it would leave that file in place).
  bool Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
              const std::string& new_name, uint64_t replaces = 0);

  // Takes every waiting create, in the order they were answered, once no create is in
  // flight; the caller sends them and calls Done.
  std::vector<PendingCreate> TakeAll();
  // Takes the waiting creates of `inodes`, with those of the directories made here they are
  // in (and theirs), in answer order, after those of them in flight elsewhere are done (a
  // commit of such a file must not reach the kernel before its create, nor a create before
  // its directory's).
  std::vector<PendingCreate> TakeFor(const std::vector<uint64_t>& inodes);
  // The creates of `inodes`, taken before, were sent (made or failed).
  void Done(const std::vector<uint64_t>& inodes);
  // Returns once no create taken by any sender is in flight.
  void AwaitInFlight();

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  uint64_t next_seq_ = 0;
  // `inodes` and the waiting directories their creates are in, transitively. mu_ held.
  std::set<uint64_t> WithParents(const std::vector<uint64_t>& inodes) const;
  // Whether the create of `ino` waits or is in flight, or `match` holds for one that does
  // (for one in flight, only its parent, name and replaced inode are kept). mu_ held.
  template <typename Match>
  bool AnyLocked(uint64_t ino, const Match& match) const;

  std::map<uint64_t, PendingCreate> waiting_;    // by answer order
  std::map<uint64_t, uint64_t> waiting_seq_;     // ino -> its key in waiting_
  // Inodes, with the name each is created under and the file it replaces.
  std::map<uint64_t, v1::FsCreateRequest> in_flight_;
  std::atomic<size_t> count_{0};                 // waiting_ and in_flight_ together
};

}  // namespace lattice::fuse
