// A watch that outlives kernel restarts: it remembers the cursor of the last event it
// delivered, and when the stream breaks it reconnects with backoff and resumes from there,
// so its consumer sees every event once, in order. This is what long-running daemons (the
// IRC gateway) use to follow a store.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "lattice/client.h"
#include "lattice/client/backoff.h"
#include "lattice/client/watch_canceller.h"
#include "lattice/v1/fs_service.pb.h"
#include "lattice/v1/store_protocol.pb.h"

namespace lattice::client {

struct KvWatchTraits {
  using Request = v1::KvWatchRequest;
  using Response = v1::KvWatchResponse;
  using Event = v1::KvEvent;
};

struct ChatWatchTraits {
  using Request = v1::ChatWatchRequest;
  using Response = v1::ChatWatchResponse;
  using Event = v1::ChatMessage;
};

// Fs.Watch: each FsChange an fs store's intention makes (lattice-fuse's cache invalidation).
struct FsWatchTraits {
  using Request = v1::FsWatchRequest;
  using Response = v1::FsWatchResponse;
  using Event = v1::FsChange;
};

struct ResumingWatchOptions {
  BackoffPolicy backoff;
  // Called before each wait to reconnect, with why the last attempt ended and how long the
  // watch will wait; for logging. Runs on the thread that called Run().
  std::function<void(const absl::Status& cause, std::chrono::milliseconds delay)> on_retry;
  // While authenticating with the admin cookie, how many consecutive UNAUTHENTICATED answers
  // to tolerate on reconnect: a restarting kernel writes its new cookie just after it starts
  // listening. Service tokens survive restarts, so with a token UNAUTHENTICATED is final.
  int max_cookie_retries = 20;
};

// Runs a Kv.Watch, Chat.Watch or Fs.Watch stream on its own connection and resumes it across
// disconnections.
//
// Delivery: events are handed to the consumer in cursor order; an event whose cursor is not
// above the last one delivered is dropped, so a resume never shows an event twice. A request
// `from_now` is pinned to a cursor first (Controller.OpenStore: a store's intention count is
// its last witness number), so a break before the first event loses nothing. Only a token
// without the read right, which cannot open the store, watches `from_now` unpinned; if that
// stream breaks before its first response it resumes from the kernel's end then (a possible
// gap).
//
// Retries: a stream that ends with UNAVAILABLE, with CANCELLED that this side did not ask
// for, or without error (a watch never ends by itself) is resumed after a backoff delay
// (BackoffPolicy: 50 ms doubling to 2 s, with jitter), on a fresh connection that re-reads
// the admin cookie. Connect failures with UNAVAILABLE or DEADLINE_EXCEEDED are retried the
// same way. Any other error ends Run() with that error.
//
// Threads: Run() blocks the calling thread; Cancel() and cursor() may be called from any
// thread.
template <typename Traits>
class ResumingWatch {
 public:
  using Request = typename Traits::Request;
  using Event = typename Traits::Event;
  // Returning false stops the watch after this event (Run() returns OK); a later Run()
  // continues after it.
  using EventCallback = std::function<bool(const Event&)>;

  // `request` says what to watch and where to start (from_cursor / from_now).
  ResumingWatch(ClientOptions client_options, Request request,
                ResumingWatchOptions options = {});
  ~ResumingWatch();
  ResumingWatch(const ResumingWatch&) = delete;
  ResumingWatch& operator=(const ResumingWatch&) = delete;

  // REQUIRES: not running on another thread. Returns OK when cancelled or stopped by the
  // consumer, otherwise the error that cannot be retried.
  absl::Status Run(const EventCallback& on_event);

  // Ends Run() promptly, from any thread, including while it waits to reconnect. Final.
  void Cancel();

  // The cursor a resume would start after: the last event delivered, or the last cursor the
  // kernel reported, whichever is later. Persist it to resume across restarts of the
  // consumer itself.
  uint64_t cursor() const { return cursor_.load(); }

  // How many times the watch reconnected after a break.
  uint64_t reconnects() const { return reconnects_.load(); }

 private:
  // Waits `delay` unless cancelled first; returns false when cancelled.
  bool WaitToRetry(std::chrono::milliseconds delay);
  bool cancel_requested() const;

  ClientOptions client_options_;
  Request request_;
  ResumingWatchOptions options_;

  // False only while starting from_now before any cursor is known.
  bool has_position_;
  std::atomic<uint64_t> cursor_;
  std::atomic<uint64_t> reconnects_{0};

  mutable std::mutex mu_;
  std::condition_variable cancelled_cv_;
  bool cancelled_ = false;
  WatchCanceller canceller_;
};

using ResumingKvWatch = ResumingWatch<KvWatchTraits>;
using ResumingChatWatch = ResumingWatch<ChatWatchTraits>;
using ResumingFsWatch = ResumingWatch<FsWatchTraits>;

extern template class ResumingWatch<KvWatchTraits>;
extern template class ResumingWatch<ChatWatchTraits>;
extern template class ResumingWatch<FsWatchTraits>;

// Whether a watch stream that ended with `status` should be resumed; `cancelled_here` says
// whether this side cancelled it.
bool IsResumableStreamEnd(const absl::Status& status, bool cancelled_here);

}  // namespace lattice::client
