// The announcer and the watcher of presence entries (see presence_link.h).
#include "presence_link.h"

#include <spdlog/spdlog.h>

#include "lattice/client/backoff.h"

namespace lattice::irc {
namespace {

client::BackoffPolicy PresenceBackoff() {
  client::BackoffPolicy policy;
  policy.initial = std::chrono::milliseconds(100);
  policy.max = std::chrono::milliseconds(2000);
  return policy;
}

}  // namespace

PresenceLink::PresenceLink(client::ClientOptions client, std::string store, EventLoop& loop,
                           std::function<void(PresenceEventBatch)> on_events)
    : client_options_(std::move(client)),
      store_(std::move(store)),
      loop_(loop),
      on_events_(std::move(on_events)) {}

PresenceLink::~PresenceLink() { Stop(0); }

void PresenceLink::Start() {
  announcer_ = std::thread([this] { AnnouncerMain(); });
  watcher_ = std::thread([this] { WatcherMain(); });
}

void PresenceLink::Stop(int64_t drain_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (draining_) return;
    draining_ = true;
    drain_until_ms_ = EventLoop::NowMs() + drain_ms;
  }
  cv_.notify_all();
  canceller_.Cancel();
  if (watcher_.joinable()) watcher_.join();
  if (announcer_.joinable()) announcer_.join();
}

void PresenceLink::Announce(const std::string& key, const std::string& value, uint32_t ttl_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    auto [it, added] = pending_.try_emplace(key);
    it->second = Pending{value, ttl_ms};
    if (added) order_.push_back(key);
  }
  cv_.notify_all();
}

bool PresenceLink::SleepUnlessStopping(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_ || draining_; });
}

void PresenceLink::AnnouncerMain() {
  std::unique_ptr<client::Client> client;
  client::Backoff backoff(PresenceBackoff());
  client::ClientOptions options = client_options_;
  options.default_deadline = std::chrono::milliseconds(5'000);
  while (true) {
    std::string key;
    Pending next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !order_.empty() || draining_; });
      if (order_.empty() || (draining_ && EventLoop::NowMs() >= drain_until_ms_)) {
        stopping_ = true;
        return;
      }
      key = order_.front();
      order_.pop_front();
      next = std::move(pending_[key]);
      pending_.erase(key);
    }
    if (!client) {
      auto connected = client::Client::Connect(options);
      if (!connected.ok()) {
        spdlog::debug("presence: cannot reach the kernel: {}",
                      std::string(connected.status().message()));
        // The entry is lost; the next renewal announces it again.
        (void)SleepUnlessStopping(backoff.Next());
        continue;
      }
      client = std::move(*connected);
      backoff.Reset();
    }
    v1::AnnounceRequest request;
    request.set_store(store_);
    request.set_key(key);
    request.set_value(next.value);
    request.set_ttl_ms(next.ttl_ms);
    absl::Status status = client->Announce(request);
    if (!status.ok()) {
      spdlog::debug("presence: announcing {} failed: {}", key, std::string(status.message()));
      if (status.code() == absl::StatusCode::kUnavailable ||
          status.code() == absl::StatusCode::kUnauthenticated) {
        client.reset();
      }
    }
  }
}

void PresenceLink::WatcherMain() {
  client::Backoff backoff(PresenceBackoff());
  client::ClientOptions options = client_options_;
  options.default_deadline = std::chrono::milliseconds(5'000);
  bool warned = false;
  while (!canceller_.cancelled()) {
    auto client = client::Client::Connect(options);
    absl::Status status;
    if (client.ok()) {
      v1::PresenceWatchRequest request;
      request.set_store(store_);
      request.set_prefix("irc/");
      status = (*client)->WatchPresence(
          request,
          [this, &backoff](const v1::PresenceWatchResponse& response) {
            backoff.Reset();
            PresenceEventBatch batch;
            batch.snapshot = response.snapshot();
            batch.events.reserve(response.events_size());
            for (const auto& event : response.events()) {
              batch.events.push_back(
                  {event.entry().node(), event.entry().key(), event.entry().value(),
                   event.gone()});
            }
            loop_.Post([this, batch = std::move(batch)]() mutable {
              on_events_(std::move(batch));
            });
            return true;
          },
          &canceller_);
    } else {
      status = client.status();
    }
    if (canceller_.cancelled()) return;
    if (!warned) {
      spdlog::warn("presence watch interrupted ({}); starting over",
                   std::string(status.message()));
      warned = true;
    }
    if (!SleepUnlessStopping(backoff.Next())) return;
  }
}

}  // namespace lattice::irc
