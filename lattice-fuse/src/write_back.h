// Write-back of closed files: lattice-fuse answers close(2) at once and commits the file's
// unsaved writes on threads of this queue, so a tool that writes many small files waits for
// none of their commits. A thread that wakes lingers up to `linger` after the oldest waiting
// commit was queued, or until `max_batch` wait, then takes them all and commits them
// together (Fs.CommitMany: one call and one intention for the lot): a tool closing files
// one after the other does so faster than each commit would take on its own, so without the
// linger every batch would hold one file. Drain and Stop cut the linger short, so nothing
// waits for it but other nodes' view of the files. fsync(2) of a file commits it
// inline (FileSystem::Fsync); fsync of a directory and unmount wait for every commit queued
// before them (Drain, Stop). A crash of lattice-fuse loses what was closed and not yet
// committed: at most `max_queued` files, queued for the time their commits take.
//
// Thread-safe. The commit function runs on the queue's threads; an inode queued again while
// its commit runs may be committed by a second thread, so the function serializes per inode.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace lattice::fuse {

class WriteBack {
 public:
  // Commits the inodes of one batch: distinct, in the order they were queued.
  using CommitFn = std::function<void(const std::vector<uint64_t>& inodes)>;
  WriteBack(CommitFn commit, int threads, size_t max_queued, size_t max_batch = 1,
            std::chrono::milliseconds linger = std::chrono::milliseconds(0));
  ~WriteBack();
  WriteBack(const WriteBack&) = delete;
  WriteBack& operator=(const WriteBack&) = delete;

  // Queues the commit of `ino` (once while it waits, however often asked). Blocks while
  // `max_queued` commits wait. False once stopped: the caller commits itself.
  bool Queue(uint64_t ino);
  // Returns once every commit queued before the call has run.
  void Drain();
  // Whether a commit of `ino` waits or runs.
  bool Pending(uint64_t ino) const;
  bool Idle() const;
  // Runs what is queued, then ends the threads; Queue refuses from then on.
  void Stop();

 private:
  void Run();

  const CommitFn commit_;
  const size_t max_queued_;
  const size_t max_batch_;
  const std::chrono::milliseconds linger_;
  mutable std::mutex mu_;
  std::condition_variable wake_;     // a commit was queued, or stopping
  std::condition_variable settled_;  // a commit ran, or one left the queue
  struct Entry {
    uint64_t ino = 0;
    uint64_t ticket = 0;
    std::chrono::steady_clock::time_point queued_at;
  };
  std::deque<Entry> queue_;
  std::map<uint64_t, uint64_t> queued_;  // ino -> ticket, of those in queue_
  std::multiset<uint64_t> running_;      // inodes being committed
  std::set<uint64_t> outstanding_;       // tickets queued or running
  uint64_t next_ticket_ = 0;
  bool stopping_ = false;
  int draining_ = 0;  // Drain calls waiting: no lingering meanwhile
  std::vector<std::thread> threads_;
};

}  // namespace lattice::fuse
