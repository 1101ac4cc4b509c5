// The gateway's link to the kernel's Presence service (see presence_roster.h for what is
// announced). Two threads, each with its own connection: an announcer that sends this
// gateway's entries in the order they were made (a newer value of a key waiting to be sent
// replaces the older one, so a burst of changes costs one call per key), and a watcher that
// follows every other gateway's entries and hands them to the event loop, starting over with
// a new snapshot whenever the stream breaks. Presence is best effort: an announcement that
// fails is logged and renewed later, never retried in a loop that could hold the gateway.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "event_loop.h"
#include "lattice/client.h"
#include "lattice/client/watch_canceller.h"

namespace lattice::irc {

// What IrcServer needs to announce its clients.
class PresencePublisher {
 public:
  virtual ~PresencePublisher() = default;
  // Announces, renews, or (ttl_ms 0) withdraws one of this gateway's entries.
  virtual void Announce(const std::string& key, const std::string& value, uint32_t ttl_ms) = 0;
};

struct PresenceEventBatch {
  struct Event {
    std::string node;
    std::string key;
    std::string value;
    bool gone = false;
  };
  bool snapshot = false;  // `events` are every live entry; what is missing has gone
  std::vector<Event> events;
};

class PresenceLink final : public PresencePublisher {
 public:
  // `on_events` runs on the loop.
  PresenceLink(client::ClientOptions client, std::string store, EventLoop& loop,
               std::function<void(PresenceEventBatch)> on_events);
  ~PresenceLink() override;

  void Start();
  // Sends what is still waiting (within `drain_ms`), then stops both threads.
  void Stop(int64_t drain_ms = 2'000);

  void Announce(const std::string& key, const std::string& value, uint32_t ttl_ms) override;

 private:
  struct Pending {
    std::string value;
    uint32_t ttl_ms = 0;
  };

  void AnnouncerMain();
  void WatcherMain();
  bool SleepUnlessStopping(std::chrono::milliseconds delay);

  client::ClientOptions client_options_;
  std::string store_;
  EventLoop& loop_;
  std::function<void(PresenceEventBatch)> on_events_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool draining_ = false;
  int64_t drain_until_ms_ = 0;
  std::deque<std::string> order_;          // keys in the order they were announced
  std::map<std::string, Pending> pending_;  // key -> newest value not sent yet
  client::WatchCanceller canceller_;

  std::thread announcer_;
  std::thread watcher_;
};

}  // namespace lattice::irc
