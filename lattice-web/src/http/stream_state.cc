// Shared state of a streamed response.
#include "src/http/stream_state.h"

namespace lattice::web::http {

bool StreamState::Reserve(size_t bytes, size_t limit, bool* overflow) {
  std::lock_guard lock(mutex_);
  *overflow = false;
  if (closed_) return false;
  if (buffered_ + bytes > limit) {
    closed_ = true;
    *overflow = true;
    return false;
  }
  buffered_ += bytes;
  return true;
}

void StreamState::Release(size_t bytes) {
  std::lock_guard lock(mutex_);
  buffered_ = bytes > buffered_ ? 0 : buffered_ - bytes;
}

bool StreamState::MarkClosed() {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  closed_ = true;
  return true;
}

void StreamState::NotifyClosed() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    if (notified_) return;
    notified_ = true;
    callbacks.swap(callbacks_);
  }
  // Outside the lock: a callback may call back into the stream.
  for (auto& callback : callbacks) callback();
}

void StreamState::OnClosed(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!notified_) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

size_t StreamState::buffered() const {
  std::lock_guard lock(mutex_);
  return buffered_;
}

}  // namespace lattice::web::http
