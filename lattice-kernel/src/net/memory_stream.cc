#include "net/memory_stream.h"

#include <algorithm>

#include "lattice/common/status.h"

namespace lattice::kernel::net {

std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> MemoryPipe::Connect(
    std::shared_ptr<MemoryPipe>* pipe, std::string name0, std::string name1, Options options) {
  *pipe = std::make_shared<MemoryPipe>();
  // Not shared yet: no lock needed.
  (*pipe)->capacity_ = std::max<size_t>(options.capacity, 1);
  for (int side = 0; side < 2; ++side) {
    (*pipe)->direction_[side].delay = options.delay[side];
    (*pipe)->direction_[side].tap = std::move(options.tap[side]);
  }
  std::unique_ptr<MemoryStream> end0(new MemoryStream(*pipe, 0, name1));
  std::unique_ptr<MemoryStream> end1(new MemoryStream(*pipe, 1, name0));
  return {std::move(end0), std::move(end1)};
}

void MemoryPipe::SetDelay(int side, Clock::duration delay) {
  std::lock_guard lock(mu_);
  direction_[side].delay = delay;
}

void MemoryPipe::SetTap(int side, Tap tap) {
  std::lock_guard lock(mu_);
  direction_[side].tap = std::move(tap);
}

void MemoryPipe::Cut(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!cut_reason_) cut_reason_ = reason;
  for (auto& direction : direction_) {
    direction.chunks.clear();
    direction.queued = 0;
  }
  cv_.notify_all();
}

uint64_t MemoryPipe::bytes_written(int side) const {
  std::lock_guard lock(mu_);
  return direction_[side].written;
}

MemoryStream::MemoryStream(std::shared_ptr<MemoryPipe> pipe, int side, std::string remote)
    : pipe_(std::move(pipe)), side_(side), remote_(std::move(remote)) {}

MemoryStream::~MemoryStream() { Shutdown(); }

absl::Status MemoryStream::Read(size_t max_bytes, Clock::time_point deadline, std::string* out) {
  out->clear();
  MemoryPipe& pipe = *pipe_;
  std::unique_lock lock(pipe.mu_);
  MemoryPipe::Direction& in = pipe.direction_[1 - side_];
  while (true) {
    if (pipe.cut_reason_) return absl::UnavailableError(*pipe.cut_reason_);
    if (pipe.shut_[side_]) return absl::UnavailableError("the connection was closed");
    auto now = Clock::now();
    Clock::time_point wake = deadline;
    if (!in.chunks.empty()) {
      if (in.chunks.front().visible_at <= now) break;
      wake = std::min(wake, in.chunks.front().visible_at);
    } else if (in.finished) {
      return absl::UnavailableError(fmt::format("{} closed the connection", remote_));
    }
    if (now >= deadline) return absl::DeadlineExceededError("timed out");
    if (wake == Clock::time_point::max()) {
      pipe.cv_.wait(lock);
    } else {
      pipe.cv_.wait_until(lock, wake);
    }
  }
  auto now = Clock::now();
  while (out->size() < max_bytes && !in.chunks.empty() && in.chunks.front().visible_at <= now) {
    MemoryPipe::Chunk& chunk = in.chunks.front();
    size_t take = std::min(max_bytes - out->size(), chunk.bytes.size() - chunk.offset);
    out->append(chunk.bytes, chunk.offset, take);
    chunk.offset += take;
    in.queued -= take;
    if (chunk.offset == chunk.bytes.size()) in.chunks.pop_front();
  }
  pipe.cv_.notify_all();
  return absl::OkStatus();
}

absl::Status MemoryStream::Write(std::string_view bytes, Clock::duration stall_timeout) {
  MemoryPipe& pipe = *pipe_;
  std::unique_lock lock(pipe.mu_);
  MemoryPipe::Direction& out = pipe.direction_[side_];
  while (!bytes.empty()) {
    auto stall_deadline = Clock::now() + stall_timeout;
    while (true) {
      if (pipe.cut_reason_) return absl::UnavailableError(*pipe.cut_reason_);
      if (pipe.shut_[side_] || out.finished) {
        return absl::UnavailableError("the connection was closed");
      }
      if (pipe.shut_[1 - side_]) {
        return absl::UnavailableError(fmt::format("{} closed the connection", remote_));
      }
      if (out.queued < pipe.capacity_) break;
      if (pipe.cv_.wait_until(lock, stall_deadline) == std::cv_status::timeout &&
          out.queued >= pipe.capacity_) {
        return absl::DeadlineExceededError(fmt::format(
            "{} accepted no data for {} ms", remote_,
            std::chrono::duration_cast<std::chrono::milliseconds>(stall_timeout).count()));
      }
    }
    size_t take = std::min(pipe.capacity_ - out.queued, bytes.size());
    std::string_view piece = bytes.substr(0, take);
    if (out.tap) out.tap(piece);
    out.chunks.push_back(MemoryPipe::Chunk{Clock::now() + out.delay, std::string(piece), 0});
    out.queued += take;
    out.written += take;
    bytes.remove_prefix(take);
    pipe.cv_.notify_all();
  }
  return absl::OkStatus();
}

void MemoryStream::FinishWrites() {
  std::lock_guard lock(pipe_->mu_);
  pipe_->direction_[side_].finished = true;
  pipe_->cv_.notify_all();
}

void MemoryStream::Shutdown() {
  std::lock_guard lock(pipe_->mu_);
  pipe_->shut_[side_] = true;
  if (pipe_->shut_[1 - side_]) pipe_->ended_ = true;
  pipe_->direction_[side_].finished = true;
  // Like a closed socket: what the peer sent and this side never read is gone.
  MemoryPipe::Direction& in = pipe_->direction_[1 - side_];
  in.chunks.clear();
  in.queued = 0;
  pipe_->cv_.notify_all();
}

}  // namespace lattice::kernel::net
