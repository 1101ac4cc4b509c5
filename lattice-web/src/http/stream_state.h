// The state a streamed response shares between the handler's threads (Stream::Write) and its
// connection's strand: whether it is closed, how much is queued, who to tell when it ends.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace lattice::web::http {

// Thread-safe.
class StreamState {
 public:
  // Reserves room for `bytes` more queued bytes. False when closed or when the queue would
  // exceed `limit`; in the latter case the stream is marked closed (*overflow = true).
  bool Reserve(size_t bytes, size_t limit, bool* overflow);
  // Bytes written to the socket, no longer queued.
  void Release(size_t bytes);
  // Marks the stream closed to writers; false if it already was.
  bool MarkClosed();
  // The connection ended: marks closed and runs the callbacks (once).
  void NotifyClosed();
  void OnClosed(std::function<void()> callback);
  size_t buffered() const;

 private:
  mutable std::mutex mutex_;
  bool closed_ = false;
  bool notified_ = false;
  size_t buffered_ = 0;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace lattice::web::http
