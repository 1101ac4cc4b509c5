// A handle that ends a running watch (or scan) stream from another thread.
#pragma once

#include <mutex>

namespace grpc {
class ClientContext;
}

namespace lattice::client {

// Thread-safe. Cancel() may be called from any thread, any number of times, before, during or
// after the stream it guards; a stream started after Cancel() ends at once. Cancellation is
// final. One canceller guards at most one running stream at a time.
class WatchCanceller {
 public:
  WatchCanceller() = default;
  WatchCanceller(const WatchCanceller&) = delete;
  WatchCanceller& operator=(const WatchCanceller&) = delete;

  void Cancel();
  bool cancelled() const;

 private:
  friend class Client;

  // Registers the context of the stream now running. Returns false (and leaves nothing
  // registered) when Cancel() has already been called.
  bool Attach(grpc::ClientContext* context);
  // Forgets the context before it is destroyed.
  void Detach();

  mutable std::mutex mu_;
  bool cancelled_ = false;
  grpc::ClientContext* context_ = nullptr;
};

}  // namespace lattice::client
