#include "lattice/client/watch_canceller.h"

#include <grpcpp/client_context.h>

namespace lattice::client {

void WatchCanceller::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  // Under the lock, so the context cannot be destroyed meanwhile (Detach takes the lock).
  if (context_ != nullptr) context_->TryCancel();
}

bool WatchCanceller::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

bool WatchCanceller::Attach(grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void WatchCanceller::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  context_ = nullptr;
}

}  // namespace lattice::client
