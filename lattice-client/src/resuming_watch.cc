// ResumingWatch: reconnect loop around Client::WatchKv / WatchChat that keeps the cursor.
#include "lattice/client/resuming_watch.h"

#include "lattice/client/fs_client.h"

#include <memory>
#include <utility>

namespace lattice::client {
namespace {

const auto& EventsOf(const v1::KvWatchResponse& response) { return response.events(); }
const auto& EventsOf(const v1::ChatWatchResponse& response) { return response.messages(); }
const auto& EventsOf(const v1::FsWatchResponse& response) { return response.changes(); }

absl::Status RunStream(Client& client, const v1::KvWatchRequest& request,
                       const KvWatchCallback& on_response, WatchCanceller* canceller) {
  return client.WatchKv(request, on_response, canceller);
}

absl::Status RunStream(Client& client, const v1::ChatWatchRequest& request,
                       const ChatWatchCallback& on_response, WatchCanceller* canceller) {
  return client.WatchChat(request, on_response, canceller);
}

absl::Status RunStream(Client& client, const v1::FsWatchRequest& request,
                       const FsWatchCallback& on_response, WatchCanceller* canceller) {
  FsClient fs(client, request.store());
  return fs.Watch(request, on_response, canceller);
}

bool IsRetryableConnectError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

bool IsResumableStreamEnd(const absl::Status& status, bool cancelled_here) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnavailable:
      return true;
    case absl::StatusCode::kCancelled:
      return !cancelled_here;
    default:
      return false;
  }
}

template <typename Traits>
ResumingWatch<Traits>::ResumingWatch(ClientOptions client_options, Request request,
                                     ResumingWatchOptions options)
    : client_options_(std::move(client_options)),
      request_(std::move(request)),
      options_(std::move(options)),
      has_position_(!request_.from_now()),
      cursor_(request_.from_now() ? 0 : request_.from_cursor()) {}

template <typename Traits>
ResumingWatch<Traits>::~ResumingWatch() = default;

template <typename Traits>
void ResumingWatch<Traits>::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
  }
  cancelled_cv_.notify_all();
  canceller_.Cancel();
}

template <typename Traits>
bool ResumingWatch<Traits>::cancel_requested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

template <typename Traits>
bool ResumingWatch<Traits>::WaitToRetry(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cancelled_cv_.wait_for(lock, delay, [this] { return cancelled_; });
}

template <typename Traits>
absl::Status ResumingWatch<Traits>::Run(const EventCallback& on_event) {
  using Response = typename Traits::Response;
  Backoff backoff(options_.backoff);
  int cookie_failures = 0;
  bool connected_before = false;

  auto retry_after = [&](const absl::Status& cause) {
    std::chrono::milliseconds delay = backoff.Next();
    if (options_.on_retry) options_.on_retry(cause, delay);
    return WaitToRetry(delay);
  };

  while (!cancel_requested()) {
    auto client = Client::Connect(client_options_);
    if (!client.ok()) {
      const absl::Status& status = client.status();
      bool retry = IsRetryableConnectError(status);
      if (status.code() == absl::StatusCode::kUnauthenticated && client_options_.token.empty() &&
          cookie_failures < options_.max_cookie_retries) {
        ++cookie_failures;
        retry = true;
      }
      if (!retry) return status;
      if (!retry_after(status)) break;
      continue;
    }
    cookie_failures = 0;
    if (connected_before) ++reconnects_;
    connected_before = true;

    if (!has_position_) {
      // Pin "now" to a cursor before watching, so a break before the first event cannot
      // open a gap: a store's intention count is its last witness number. A token without
      // the read right cannot open the store; it falls back to from_now.
      auto store = (*client)->OpenStore(request_.store());
      if (store.ok()) {
        cursor_.store(store->intentions());
        has_position_ = true;
      }
    }
    Request request = request_;
    if (has_position_) {
      request.set_from_cursor(cursor_.load());
      request.set_from_now(false);
    } else {
      request.set_from_now(true);
    }

    bool consumer_stopped = false;
    auto on_response = [&](const Response& response) {
      // A stream that delivers is healthy: the next break starts the backoff afresh.
      backoff.Reset();
      for (const auto& event : EventsOf(response)) {
        uint64_t delivered = cursor_.load();
        if (has_position_ && event.cursor() != 0 && event.cursor() <= delivered) continue;
        bool keep_going = on_event(event);
        if (event.cursor() > delivered) {
          cursor_.store(event.cursor());
          has_position_ = true;
        }
        if (!keep_going) {
          consumer_stopped = true;
          return false;
        }
      }
      // Cursor 0 would mean "from the beginning", never a position after from_now.
      if (response.cursor() > cursor_.load()) {
        cursor_.store(response.cursor());
        has_position_ = true;
      }
      return true;
    };
    absl::Status status = RunStream(**client, request, on_response, &canceller_);
    if (consumer_stopped || cancel_requested()) return absl::OkStatus();
    if (!IsResumableStreamEnd(status, /*cancelled_here=*/false)) return status;
    if (status.ok()) status = absl::UnavailableError("the kernel ended the watch stream");
    if (!retry_after(status)) break;
  }
  return absl::OkStatus();
}

template class ResumingWatch<KvWatchTraits>;
template class ResumingWatch<ChatWatchTraits>;
template class ResumingWatch<FsWatchTraits>;

}  // namespace lattice::client
