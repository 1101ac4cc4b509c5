#include "src/kernel/event_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "src/json/json_codec.h"

namespace lattice::web {
namespace {

std::vector<FeedEvent> EventsOf(const v1::KvWatchResponse& response) {
  std::vector<FeedEvent> events;
  events.reserve(response.events_size());
  for (const auto& event : response.events()) {
    nlohmann::json data = nlohmann::json::object();
    data["cursor"] = event.cursor();
    SetBytes(data, "key", event.key());
    if (!event.deleted()) SetBytes(data, "value", event.value());
    data["deleted"] = event.deleted();
    data["author"] = event.author();
    data["hlc"] = ProtoToJson(event.hlc());
    data["hash"] = event.hash();
    events.push_back({event.cursor(), "change", data.dump()});
  }
  return events;
}

std::vector<FeedEvent> EventsOf(const v1::ChatWatchResponse& response) {
  std::vector<FeedEvent> events;
  events.reserve(response.messages_size());
  for (const auto& message : response.messages()) {
    events.push_back({message.cursor(), "message", ProtoToJson(message).dump()});
  }
  return events;
}

// The kernel side of a feed: one Kv.Watch or Chat.Watch stream. Deletes itself when done.
template <typename Request, typename Response>
class WatchCall final : public grpc::ClientReadReactor<Response> {
 public:
  WatchCall(std::shared_ptr<EventFeed> feed, std::unique_ptr<grpc::ClientContext> context,
            Request request)
      : feed_(std::move(feed)), context_(std::move(context)), request_(std::move(request)) {}

  grpc::ClientContext* context() { return context_.get(); }
  const Request* request() const { return &request_; }

  void Begin() {
    this->StartRead(&response_);
    this->StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status
    feed_->OnResponse(EventsOf(response_), response_.cursor());
    response_.Clear();
    this->StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    feed_->OnEnded(status);
    delete this;
  }

 private:
  std::shared_ptr<EventFeed> feed_;
  std::unique_ptr<grpc::ClientContext> context_;
  Request request_;
  Response response_;
};

bool Retryable(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:           // a watch never ends by itself
    case grpc::StatusCode::UNAVAILABLE:  // the kernel restarts or stops
    case grpc::StatusCode::CANCELLED:    // not asked for by us (Stop() says so first)
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return true;
    default:
      return false;
  }
}

bool Before(const EventPosition& a, const EventPosition& b) {
  return std::tie(a.complete, a.partial) < std::tie(b.complete, b.partial);
}

std::string Frame(const EventPosition& position, const FeedEvent& event) {
  return "id: " + position.ToId() + "\nevent: " + event.type + "\ndata: " + event.data + "\n\n";
}

// The feed's position alone, with no event.
std::string PositionFrame(const EventPosition& position) {
  return "id: " + position.ToId() + "\n\n";
}

}  // namespace

EventFeed::EventFeed(KernelLink& link, FeedSpec spec, std::optional<EventPosition> start,
                     FeedOptions options, std::function<void(EventFeed*)> on_idle)
    : link_(link), spec_(std::move(spec)), options_(options), on_idle_(std::move(on_idle)) {
  if (start) {
    known_ = true;
    position_ = {start->complete, 0};
    skip_cursor_ = start->complete + 1;
    skip_count_ = start->partial;
    // Clients behind `start` cannot join: the events it skips are never held.
    floor_ = *start;
  }
}

EventFeed::~EventFeed() = default;

void EventFeed::Start() {
  Connect();
  ScheduleHeartbeat();
}

void EventFeed::Connect() {
  auto context = link_.NewContext(spec_.token, false);
  std::function<void()> begin;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    context_ = context.get();  // Stop() may cancel it even before the call has started
    if (spec_.kind == FeedKind::kKv) {
      v1::KvWatchRequest request;
      request.set_store(spec_.store);
      request.set_prefix(spec_.filter);
      request.set_from_cursor(position_.complete);
      request.set_from_now(!known_);
      auto* call = new WatchCall<v1::KvWatchRequest, v1::KvWatchResponse>(
          shared_from_this(), std::move(context), std::move(request));
      begin = [this, call] {
        link_.kv().async()->Watch(call->context(), call->request(), call);
        call->Begin();
      };
    } else {
      v1::ChatWatchRequest request;
      request.set_store(spec_.store);
      request.set_channel(spec_.filter);
      request.set_from_cursor(position_.complete);
      request.set_from_now(!known_);
      auto* call = new WatchCall<v1::ChatWatchRequest, v1::ChatWatchResponse>(
          shared_from_this(), std::move(context), std::move(request));
      begin = [this, call] {
        link_.chat().async()->Watch(call->context(), call->request(), call);
        call->Begin();
      };
    }
  }
  // Outside mu_: gRPC may run the call's first reactions on this very thread.
  begin();
}

void EventFeed::OnResponse(std::vector<FeedEvent> events, uint64_t cursor) {
  std::lock_guard lock(mu_);
  attempts_ = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const FeedEvent& event = events[i];
    seen_of_last_ = event.cursor == last_cursor_ ? seen_of_last_ + 1 : 1;
    last_cursor_ = event.cursor;
    if (event.cursor == skip_cursor_ && seen_of_last_ <= skip_count_) {
      continue;  // the client that started this feed had these already
    }
    // A page holds whole intentions: the last event of a cursor in it ends its intention.
    bool ends_intention = i + 1 == events.size() || events[i + 1].cursor != event.cursor;
    EventPosition after = ends_intention ? EventPosition{event.cursor, 0}
                                         : EventPosition{event.cursor - 1, seen_of_last_};
    position_ = after;
    std::string frame = Frame(after, event);
    Broadcast(frame);
    Hold({after, std::move(frame)});
  }
  EventPosition reached{std::max(cursor, position_.complete), 0};
  if (!known_ || reached.complete > position_.complete || position_.partial != 0) {
    bool first = !known_;
    known_ = true;
    position_ = reached;
    if (first) floor_ = reached;
    // No data: a browser takes the id as its Last-Event-ID without firing an event, so a
    // reconnect resumes from here rather than replaying what it skipped.
    Broadcast(PositionFrame(position_));
  }
}

void EventFeed::OnEnded(const grpc::Status& status) {
  {
    std::lock_guard lock(mu_);
    context_ = nullptr;
    if (stopped_) return;
  }
  if (!Retryable(status)) {
    Fail(status);
    return;
  }
  int attempt;
  {
    std::lock_guard lock(mu_);
    attempt = attempts_++;
  }
  auto delay = std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 5)));
  spdlog::info("the watch of store {} ended ({}); resuming in {} ms", spec_.store,
               status.error_message(), delay.count());
  std::weak_ptr<EventFeed> weak = weak_from_this();
  retry_alarm_.Set(std::chrono::system_clock::now() + delay, [weak](bool ok) {
    if (auto feed = weak.lock(); feed && ok) feed->Connect();
  });
}

void EventFeed::Fail(const grpc::Status& status) {
  nlohmann::json problem = {{"type", "about:blank"},
                            {"status", 0},
                            {"title", "The live events ended"},
                            {"detail", status.error_message()},
                            {"grpc_code", static_cast<int>(status.error_code())}};
  std::vector<std::shared_ptr<http::Stream>> clients;
  {
    std::lock_guard lock(mu_);
    Broadcast("event: error\ndata: " + problem.dump() + "\n\n");
    clients.swap(clients_);
  }
  for (auto& client : clients) client->Close();
  Stop();
}

void EventFeed::ScheduleHeartbeat() {
  std::weak_ptr<EventFeed> weak = weak_from_this();
  heartbeat_alarm_.Set(std::chrono::system_clock::now() + options_.heartbeat, [weak](bool ok) {
    auto feed = weak.lock();
    if (!feed || !ok) return;
    {
      std::lock_guard lock(feed->mu_);
      if (feed->stopped_) return;
      // A comment: proxies see traffic and keep the stream open; browsers ignore it.
      feed->Broadcast(": heartbeat\n\n");
    }
    feed->ScheduleHeartbeat();
  });
}

void EventFeed::Broadcast(const std::string& frame) {
  for (auto& client : clients_) client->Write(frame);
}

void EventFeed::Hold(Held held) {
  held_bytes_ += held.frame.size();
  held_.push_back(std::move(held));
  while (held_.size() > options_.max_replay_events || held_bytes_ > options_.max_replay_bytes) {
    // Whole intentions leave together, so the floor is always a complete position.
    uint64_t cursor = held_.front().position.intention();
    while (!held_.empty() && held_.front().position.intention() == cursor) {
      held_bytes_ -= held_.front().frame.size();
      held_.pop_front();
    }
    floor_ = {cursor, 0};
  }
}

bool EventFeed::Attach(const std::shared_ptr<http::Stream>& stream, const EventPosition& since) {
  {
    std::lock_guard lock(mu_);
    if (stopped_ || !known_ || Before(since, floor_) || Before(position_, since)) return false;
    EventPosition told = since;
    for (const Held& held : held_) {
      if (!Before(since, held.position)) continue;
      stream->Write(held.frame);
      told = held.position;
    }
    // The feed may have moved on past intentions that held no event of this filter: the
    // client learns where the feed stands, as its other clients did, or it would resume
    // from `since` again and its first event could be a long wait away.
    if (told == since || Before(told, position_)) {
      stream->Write(PositionFrame(position_));
    }
    clients_.push_back(stream);
    had_client_ = true;
  }
  WatchClosing(stream);
  return true;
}

void EventFeed::AttachFromNow(const std::shared_ptr<http::Stream>& stream) {
  {
    std::lock_guard lock(mu_);
    if (known_) stream->Write(PositionFrame(position_));
    clients_.push_back(stream);
    had_client_ = true;
  }
  WatchClosing(stream);
}

// Outside mu_: the stream may have closed already, and then calls back at once.
void EventFeed::WatchClosing(const std::shared_ptr<http::Stream>& stream) {
  std::weak_ptr<EventFeed> weak = weak_from_this();
  const http::Stream* key = stream.get();
  stream->OnClosed([weak, key] {
    if (auto feed = weak.lock()) feed->Detach(key);
  });
}

void EventFeed::Detach(const http::Stream* stream) {
  bool idle;
  {
    std::lock_guard lock(mu_);
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                  [stream](const auto& c) { return c.get() == stream; }),
                   clients_.end());
    idle = clients_.empty() && had_client_ && !stopped_;
  }
  if (idle) Stop();
}

void EventFeed::Stop() {
  std::function<void(EventFeed*)> on_idle;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (context_ != nullptr) context_->TryCancel();
    on_idle.swap(on_idle_);
  }
  retry_alarm_.Cancel();
  heartbeat_alarm_.Cancel();
  if (on_idle) on_idle(this);
}

size_t EventFeed::clients() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

FeedRegistry::~FeedRegistry() {
  std::multimap<FeedSpec, std::shared_ptr<EventFeed>> feeds;
  {
    std::lock_guard lock(mu_);
    feeds.swap(feeds_);
  }
  for (auto& [spec, feed] : feeds) feed->Stop();
}

void FeedRegistry::Subscribe(const FeedSpec& spec, const std::shared_ptr<http::Stream>& stream,
                             std::optional<EventPosition> since) {
  auto forget = [this](EventFeed* gone) {
    std::lock_guard lock(mu_);
    for (auto it = feeds_.begin(); it != feeds_.end(); ++it) {
      if (it->second.get() == gone) {
        feeds_.erase(it);
        return;
      }
    }
  };
  std::shared_ptr<EventFeed> feed;
  {
    std::lock_guard lock(mu_);
    if (since) {
      auto [first, last] = feeds_.equal_range(spec);
      for (auto it = first; it != last; ++it) {
        if (it->second->Attach(stream, *since)) return;
      }
    }
    feed = std::make_shared<EventFeed>(link_, spec, since, options_, forget);
    feeds_.emplace(spec, feed);
  }
  // A fresh feed starts where its first client stands.
  feed->AttachFromNow(stream);
  feed->Start();
}

size_t FeedRegistry::feeds() const {
  std::lock_guard lock(mu_);
  return feeds_.size();
}

size_t FeedRegistry::clients() const {
  std::lock_guard lock(mu_);
  size_t total = 0;
  for (const auto& [spec, feed] : feeds_) total += feed->clients();
  return total;
}

}  // namespace lattice::web
