// ByteStream between two ends in one process: the in-memory transport's "wire". Each
// direction is a bounded buffer (a full one blocks the writer, as a TCP window does) that
// can delay its bytes, show them to a tap and count them; the pipe can be cut like a broken
// network. A MemoryPipe outlives its two ends, so a test network can still reach it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/byte_stream.h"

namespace lattice::kernel::net {

class MemoryStream;

// Sees the bytes one side of a pipe writes, in order, on the writer's thread (under the
// pipe's lock: it must not call back into the pipe).
using MemoryTap = std::function<void(std::string_view bytes)>;

struct MemoryPipeOptions {
  size_t capacity = 256 * 1024;   // bytes in flight per direction
  Clock::duration delay[2] = {};  // per writing side, as MemoryPipe::SetDelay
  MemoryTap tap[2];               // per writing side, as MemoryPipe::SetTap
};

// Thread-safe.
class MemoryPipe {
 public:
  using Tap = MemoryTap;
  using Options = MemoryPipeOptions;

  // A pipe and its two ends, side 0 and side 1: what one writes the other reads. Each end's
  // remote_address() is the other side's name.
  static std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> Connect(
      std::shared_ptr<MemoryPipe>* pipe, std::string name0, std::string name1,
      MemoryPipeOptions options = {});

  // Bytes `side` writes from now on reach the other side `delay` later (order is kept).
  void SetDelay(int side, Clock::duration delay);
  void SetTap(int side, Tap tap);
  // Ends both directions at once, bytes in flight lost: both ends' calls fail with
  // UNAVAILABLE carrying `reason`. Idempotent.
  void Cut(const std::string& reason);
  uint64_t bytes_written(int side) const;
  // Both ends were destroyed or shut down. Lock-free, so a caller may hold its own locks.
  bool ended() const { return ended_.load(); }

 private:
  friend class MemoryStream;
  struct Chunk {
    Clock::time_point visible_at;
    std::string bytes;
    size_t offset = 0;
  };
  // The bytes written by one side.
  struct Direction {
    std::deque<Chunk> chunks;
    size_t queued = 0;
    bool finished = false;  // the writer ended its side
    Clock::duration delay{};
    uint64_t written = 0;
    Tap tap;
  };

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t capacity_ = 1;
  Direction direction_[2];
  bool shut_[2] = {false, false};
  std::optional<std::string> cut_reason_;
  std::atomic<bool> ended_{false};
};

class MemoryStream : public ByteStream {
 public:
  ~MemoryStream() override;

  absl::Status Read(size_t max_bytes, Clock::time_point deadline, std::string* out) override;
  absl::Status Write(std::string_view bytes, Clock::duration stall_timeout) override;
  void FinishWrites() override;
  void Shutdown() override;
  const std::string& remote_address() const override { return remote_; }

 private:
  friend class MemoryPipe;
  MemoryStream(std::shared_ptr<MemoryPipe> pipe, int side, std::string remote);

  std::shared_ptr<MemoryPipe> pipe_;
  int side_;
  std::string remote_;
};

}  // namespace lattice::kernel::net
