// Live events of a store, fanned out to server-sent-event clients.
//
// An EventFeed is one kernel watch (Kv.Watch or Chat.Watch) feeding any number of HTTP
// streams that share its token, store and filter: a thousand browsers following one store
// cost one kernel stream, not a thousand (the kernel bounds streams per token). It keeps the
// most recent events, so a client that reconnects with Last-Event-ID is served from memory
// when it can be; a client further behind gets a feed of its own, started at its position.
// When the kernel goes away the feed resumes from its own position once it is back, so its
// clients see a pause, never a gap or a repeat.
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "src/http/exchange.h"
#include "src/kernel/event_position.h"
#include "src/kernel/kernel_link.h"

namespace lattice::web {

enum class FeedKind { kKv, kChat };

struct FeedSpec {
  std::string token;
  std::string store;
  std::string filter;  // key prefix (kv) or channel (chat; empty = every channel)
  FeedKind kind = FeedKind::kKv;
  bool operator<(const FeedSpec& other) const {
    return std::tie(token, store, filter, kind) <
           std::tie(other.token, other.store, other.filter, other.kind);
  }
};

// One event, normalised from either kind of watch.
struct FeedEvent {
  uint64_t cursor = 0;
  std::string type;  // the SSE event name: "change" or "message"
  std::string data;  // JSON, one line
};

struct FeedOptions {
  std::chrono::milliseconds heartbeat{15'000};
  size_t max_replay_events = 4096;
  size_t max_replay_bytes = 8 << 20;
};

class EventFeed : public std::enable_shared_from_this<EventFeed> {
 public:
  // `start` is where the kernel watch begins (nullopt: at the end of the log, for a caller
  // that may not read the store and so cannot learn the current cursor). `on_idle` runs once
  // when the last client has gone.
  EventFeed(KernelLink& link, FeedSpec spec, std::optional<EventPosition> start,
            FeedOptions options, std::function<void(EventFeed*)> on_idle);
  ~EventFeed();

  void Start();
  // Adds a client that has seen everything up to `since` and sends it every later event.
  // False (and nothing sent) when this feed cannot serve that position: older than what it
  // holds, or ahead of it.
  bool Attach(const std::shared_ptr<http::Stream>& stream, const EventPosition& since);
  // For a feed started at the end of the log: adds a client that wants what comes next.
  void AttachFromNow(const std::shared_ptr<http::Stream>& stream);
  void Stop();

  const FeedSpec& spec() const { return spec_; }
  size_t clients() const;

  // Called by the kernel watch (any kind) with each response and when it ends.
  void OnResponse(std::vector<FeedEvent> events, uint64_t cursor);
  void OnEnded(const grpc::Status& status);

 private:
  struct Held {
    EventPosition position;  // where a client stands after this event
    std::string frame;
  };

  void Connect();
  void ScheduleHeartbeat();
  void WatchClosing(const std::shared_ptr<http::Stream>& stream);
  void Detach(const http::Stream* stream);
  void Broadcast(const std::string& frame);  // REQUIRES: mu_ held
  void Hold(Held held);                      // REQUIRES: mu_ held
  void Fail(const grpc::Status& status);

  KernelLink& link_;
  const FeedSpec spec_;
  const FeedOptions options_;
  std::function<void(EventFeed*)> on_idle_;

  mutable std::mutex mu_;
  bool known_ = false;        // whether position_ is where the kernel watch stands
  EventPosition position_;    // every event up to here has been received
  uint64_t skip_cursor_ = 0;  // the intention whose first skip_count_ events the starting
  uint64_t skip_count_ = 0;   // client had already: dropped on arrival
  uint64_t last_cursor_ = 0;  // cursor of the last event received (to count within one)
  uint64_t seen_of_last_ = 0;
  std::deque<Held> held_;
  size_t held_bytes_ = 0;
  EventPosition floor_;       // held_ has every event after this position
  std::vector<std::shared_ptr<http::Stream>> clients_;
  bool stopped_ = false;
  bool had_client_ = false;
  int attempts_ = 0;
  grpc::ClientContext* context_ = nullptr;  // of the running kernel watch
  grpc::Alarm retry_alarm_;
  grpc::Alarm heartbeat_alarm_;
};

// The shared feeds, by token, store and filter.
class FeedRegistry {
 public:
  FeedRegistry(KernelLink& link, FeedOptions options) : link_(link), options_(options) {}
  ~FeedRegistry();

  // Sends `stream` every event after `since` (nullopt: from now, for a caller that may watch
  // but not read the store: its feed is its own).
  void Subscribe(const FeedSpec& spec, const std::shared_ptr<http::Stream>& stream,
                 std::optional<EventPosition> since);

  size_t feeds() const;
  size_t clients() const;

 private:
  KernelLink& link_;
  const FeedOptions options_;
  mutable std::mutex mu_;
  std::multimap<FeedSpec, std::shared_ptr<EventFeed>> feeds_;
};

}  // namespace lattice::web
