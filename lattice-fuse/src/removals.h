// Unlinks answered here and sent to the kernel in batches. A tool that removes many files
// (rm -r, a build's clean, git checkout) waits for none of the kernel's writes: unlink(2) is
// answered at once, the name is shown as gone here (Pending), and the queue's threads send
// the removals together (Fs.RemoveMany: one call and one intention for up to a batch),
// lingering like the write-back of closed files (write_back.h) so that a batch holds more
// than one. Anything that must see the kernel's state without those names first Drains:
// listing a directory, rmdir, fsync, making a name that is still pending, unmount.
// A crash of lattice-fuse before a batch is sent loses those unlinks (the files come back),
// as a local file system loses unsynced metadata on a power cut.
//
// Thread-safe. The send function runs on the queue's threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "src/write_back.h"

namespace lattice::fuse {

struct Removal {
  uint64_t parent = 0;
  std::string name;
  uint64_t ino = 0;  // what the name named when unlinked here (0: not said)
};

class Removals {
 public:
  // Sends one batch of distinct names, in the order they were queued.
  using SendFn = std::function<void(const std::vector<Removal>& batch)>;
  Removals(SendFn send, int threads, size_t max_queued, size_t max_batch,
           std::chrono::milliseconds linger);
  ~Removals();
  Removals(const Removals&) = delete;
  Removals& operator=(const Removals&) = delete;

  // Queues the removal of `name` from `parent`; blocks while `max_queued` wait. False once
  // stopped: the caller removes it itself.
  bool Queue(uint64_t parent, const std::string& name, uint64_t ino = 0);
  // Whether that name's removal waits or is being sent.
  bool Pending(uint64_t parent, const std::string& name) const;
  // Whether a removal from directory `parent` waits or is being sent.
  bool PendingIn(uint64_t parent) const;
  bool Empty() const;
  // How many removals have been sent (or failed) so far: a kernel answer asked for while this
  // moved may predate one of them.
  uint64_t Finished() const;
  // Returns once every removal queued before the call was sent.
  void Drain();
  // Sends what is queued, then ends the threads; Queue refuses from then on.
  void Stop();

 private:
  void SendBatch(const std::vector<uint64_t>& ids);
  // Drops removal `id` from the maps. mu_ held.
  void Forget(uint64_t id);

  const SendFn send_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 0;
  uint64_t finished_ = 0;
  std::map<uint64_t, Removal> by_id_;                      // queued or being sent
  std::map<std::pair<uint64_t, std::string>, uint64_t> by_name_;
  std::map<uint64_t, size_t> by_parent_;  // how many of by_id_ are in each directory
  // Last: its threads call SendBatch until it is stopped.
  std::unique_ptr<WriteBack> queue_;
};

}  // namespace lattice::fuse
