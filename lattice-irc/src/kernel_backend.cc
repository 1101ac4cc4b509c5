// The gateway's link to the kernel: writer, reader and watch threads (see kernel_backend.h).
#include "kernel_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "lattice/client/backoff.h"
#include "lattice/common/status.h"
#include "limits.h"

namespace lattice::irc {
namespace {

using Clock = std::chrono::steady_clock;

// How many recently reported hashes the lanes keep, so the duplicate check never mistakes
// an earlier identical message for a lost attempt.
constexpr size_t kRecentHashes = 4096;
// Messages looked at when checking whether a lost attempt was applied.
constexpr uint32_t kCheckDepth = 200;
// The kernel's clock and ours are the same machine's, give or take the HLC.
constexpr uint64_t kClockSlackMs = 5'000;
// INTERNAL and UNKNOWN may be a dropped connection, or a kernel bug: retried a few times.
constexpr int kMaxUnclearRetries = 5;

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kAborted;
}

bool IsUnclear(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnknown ||
         status.code() == absl::StatusCode::kInternal ||
         status.code() == absl::StatusCode::kCancelled;
}

client::BackoffPolicy KernelBackoff() {
  client::BackoffPolicy policy;
  policy.initial = std::chrono::milliseconds(50);
  policy.max = std::chrono::milliseconds(2000);
  return policy;
}

}  // namespace

struct KernelBackend::WriteJob {
  enum class Kind { kPost, kTopic, kReply, kReact };
  Kind kind = Kind::kPost;
  v1::PostRequest post;
  v1::SetTopicRequest topic;
  v1::ReplyRequest reply;
  v1::ReactRequest react;
  std::function<void(PostOutcome)> done;
  uint64_t first_attempt_ms = 0;
};

struct KernelBackend::Lane {
  std::deque<std::unique_ptr<WriteJob>> jobs;
  std::unique_ptr<client::Client> client;
  std::thread thread;
};

KernelBackend::KernelBackend(KernelBackendOptions options, EventLoop& loop,
                             std::function<void(v1::ChatMessage)> on_message,
                             std::function<void(absl::Status)> on_watch_failed)
    : options_(std::move(options)),
      loop_(loop),
      on_message_(std::move(on_message)),
      on_watch_failed_(std::move(on_watch_failed)) {}

KernelBackend::~KernelBackend() { Stop(); }

void KernelBackend::Start() {
  v1::ChatWatchRequest request;
  request.set_store(options_.store);
  request.set_from_now(true);
  client::ResumingWatchOptions watch_options;
  watch_options.backoff = KernelBackoff();
  auto failures = std::make_shared<uint64_t>(0);
  watch_options.on_retry = [failures](const absl::Status& cause, std::chrono::milliseconds delay) {
    // The first break, then every 30th retry while the kernel stays away.
    if ((*failures)++ % 30 == 0) {
      spdlog::warn("chat watch interrupted ({}); resuming in {} ms", cause.message(),
                   delay.count());
    }
  };
  client::ClientOptions client_options = options_.client;
  client_options.default_deadline = std::chrono::milliseconds(options_.read_deadline_ms);
  watch_ = std::make_unique<client::ResumingChatWatch>(client_options, request, watch_options);
  for (size_t i = 0; i < kWriterLanes; ++i) lanes_.push_back(std::make_unique<Lane>());
  for (auto& lane : lanes_) {
    Lane* raw = lane.get();
    lane->thread = std::thread([this, raw] { WriterMain(*raw); });
  }
  reader_ = std::thread([this] { ReaderMain(); });
  watcher_ = std::thread([this] { WatchMain(); });
}

void KernelBackend::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !reader_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (watch_) watch_->Cancel();
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
  if (reader_.joinable()) reader_.join();
  if (watcher_.joinable()) watcher_.join();
}

uint64_t KernelBackend::watch_cursor() const { return watch_ ? watch_->cursor() : 0; }
uint64_t KernelBackend::watch_reconnects() const { return watch_ ? watch_->reconnects() : 0; }

bool KernelBackend::SleepUnlessStopping(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_; });
}

client::Client* KernelBackend::EnsureClient(std::unique_ptr<client::Client>* slot,
                                            int64_t deadline_ms, absl::Status* error) {
  if (*slot) return slot->get();
  client::Backoff backoff(KernelBackoff());
  while (true) {
    auto connected = client::Client::Connect(options_.client);
    if (connected.ok()) {
      *slot = std::move(*connected);
      return slot->get();
    }
    *error = connected.status();
    if (!IsTransient(connected.status())) return nullptr;
    auto delay = backoff.Next();
    if (deadline_ms > 0 && SteadyMs() + delay.count() > deadline_ms) return nullptr;
    if (!SleepUnlessStopping(delay)) {
      *error = absl::UnavailableError("the gateway is shutting down");
      return nullptr;
    }
  }
}

bool KernelBackend::IsRecentHash(const std::string& hash) {
  std::lock_guard<std::mutex> lock(recent_mu_);
  return recent_.count(hash) != 0;
}

void KernelBackend::RememberHash(const std::string& hash) {
  std::lock_guard<std::mutex> lock(recent_mu_);
  if (!recent_.insert(hash).second) return;
  recent_order_.push_back(hash);
  if (recent_order_.size() > kRecentHashes) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

// ---- Writes ----------------------------------------------------------------------------------

void KernelBackend::Enqueue(uint64_t order, std::unique_ptr<WriteJob> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    lanes_[order % lanes_.size()]->jobs.push_back(std::move(job));
  }
  cv_.notify_all();
}

void KernelBackend::Post(const v1::PostRequest& request, uint64_t order,
                         std::function<void(PostOutcome)> done) {
  auto job = std::make_unique<WriteJob>();
  job->kind = WriteJob::Kind::kPost;
  job->post = request;
  job->done = std::move(done);
  Enqueue(order, std::move(job));
}

void KernelBackend::SetTopic(const v1::SetTopicRequest& request, uint64_t order,
                             std::function<void(PostOutcome)> done) {
  auto job = std::make_unique<WriteJob>();
  job->kind = WriteJob::Kind::kTopic;
  job->topic = request;
  job->done = std::move(done);
  Enqueue(order, std::move(job));
}

void KernelBackend::Reply(const v1::ReplyRequest& request, uint64_t order,
                          std::function<void(PostOutcome)> done) {
  auto job = std::make_unique<WriteJob>();
  job->kind = WriteJob::Kind::kReply;
  job->reply = request;
  job->done = std::move(done);
  Enqueue(order, std::move(job));
}

void KernelBackend::React(const v1::ReactRequest& request, uint64_t order,
                          std::function<void(PostOutcome)> done) {
  auto job = std::make_unique<WriteJob>();
  job->kind = WriteJob::Kind::kReact;
  job->react = request;
  job->done = std::move(done);
  Enqueue(order, std::move(job));
}

void KernelBackend::WriterMain(Lane& lane) {
  while (true) {
    std::unique_ptr<WriteJob> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !lane.jobs.empty(); });
      if (stopping_) return;
      job = std::move(lane.jobs.front());
      lane.jobs.pop_front();
    }
    PostOutcome outcome = RunWrite(lane, *job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    loop_.Post([done = std::move(job->done), outcome = std::move(outcome)]() mutable {
      done(std::move(outcome));
    });
  }
}

absl::StatusOr<std::string> KernelBackend::FindApplied(client::Client& client,
                                                       const WriteJob& job) {
  std::string_view kind;
  const std::string* channel;
  const std::string* text;
  const std::string* sender;
  bool action = false;
  switch (job.kind) {
    case WriteJob::Kind::kPost:
      kind = "post";
      channel = &job.post.channel();
      text = &job.post.text();
      sender = &job.post.sender();
      action = job.post.action();
      break;
    case WriteJob::Kind::kTopic:
      kind = "topic";
      channel = &job.topic.channel();
      text = &job.topic.text();
      sender = &job.topic.sender();
      break;
    default:
      return std::string();  // replies and reactions are rare; a lost one is repeated
  }
  LATTICE_ASSIGN_OR_RETURN(v1::HistoryResponse page,
                           client.History(options_.store, *channel, kCheckDepth));
  for (auto it = page.messages().rbegin(); it != page.messages().rend(); ++it) {
    const v1::ChatMessage& m = *it;
    if (m.hlc().wall_ms() + kClockSlackMs < job.first_attempt_ms) break;
    if (m.kind() == kind && m.author() == options_.node_id && m.sender() == *sender &&
        m.text() == *text && m.action() == action && !IsRecentHash(m.hash())) {
      return m.hash();
    }
  }
  return std::string();
}

PostOutcome KernelBackend::RunWrite(Lane& lane, WriteJob& job) {
  client::Backoff backoff(KernelBackoff());
  job.first_attempt_ms = WallMs();
  bool uncertain = false;  // an earlier attempt may have been applied
  bool warned = false;
  int unclear_retries = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return {absl::UnavailableError("the gateway is shutting down"), ""};
    }
    absl::Status error;
    client::Client* client = EnsureClient(&lane.client, 0, &error);
    if (client == nullptr) return {error, ""};
    if (uncertain) {
      auto found = FindApplied(*client, job);
      if (found.ok() && !found->empty()) {
        spdlog::info("a write interrupted by the kernel's absence had been applied ({})", *found);
        RememberHash(*found);
        return {absl::OkStatus(), *found};
      }
      if (!found.ok() && IsTransient(found.status())) {
        SleepUnlessStopping(backoff.Next());
        continue;
      }
    }
    absl::StatusOr<v1::WriteResult> result;
    switch (job.kind) {
      case WriteJob::Kind::kPost:
        result = client->Post(job.post);
        break;
      case WriteJob::Kind::kTopic:
        result = client->SetTopic(job.topic.store(), job.topic.channel(), job.topic.text(),
                                  job.topic.sender());
        break;
      case WriteJob::Kind::kReply:
        result =
            client->Reply(job.reply.store(), job.reply.ref(), job.reply.text(), job.reply.sender());
        break;
      case WriteJob::Kind::kReact:
        result = client->React(job.react.store(), job.react.ref(), job.react.emoji(),
                               job.react.sender());
        break;
    }
    if (result.ok()) {
      if (warned) spdlog::info("the kernel answers again; queued messages are being posted");
      RememberHash(result->hash());
      return {absl::OkStatus(), result->hash()};
    }
    const absl::Status& status = result.status();
    bool retry =
        IsTransient(status) || (IsUnclear(status) && ++unclear_retries <= kMaxUnclearRetries);
    if (!retry) return {status, ""};
    uncertain = true;
    if (!warned) {
      warned = true;
      spdlog::warn("cannot post to the kernel ({}); retrying with backoff", status.message());
    }
    SleepUnlessStopping(backoff.Next());
  }
}

// ---- Reads -----------------------------------------------------------------------------------

void KernelBackend::ReaderMain() {
  while (true) {
    ReadJob job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !reads_.empty(); });
      if (stopping_) return;
      job = std::move(reads_.front());
      reads_.pop_front();
    }
    job();
  }
}

namespace {

// Runs `attempt` (returns a Status) until it succeeds, fails for good, or `deadline_ms` comes.
template <typename Attempt, typename Sleep>
absl::Status RetryUntil(int64_t deadline_ms, Attempt&& attempt, Sleep&& sleep) {
  client::Backoff backoff(KernelBackoff());
  while (true) {
    absl::Status status = attempt();
    if (status.ok() || !IsTransient(status)) return status;
    auto delay = backoff.Next();
    if (SteadyMs() + delay.count() >= deadline_ms) return status;
    if (!sleep(delay)) return absl::UnavailableError("the gateway is shutting down");
  }
}

}  // namespace

void KernelBackend::FetchChannel(const std::string& channel, uint32_t history_limit,
                                 std::function<void(ChannelSnapshot)> done) {
  std::lock_guard<std::mutex> lock(mu_);
  reads_.push_back([this, channel, history_limit, done = std::move(done)]() mutable {
    int64_t deadline = SteadyMs() + options_.read_deadline_ms;
    ChannelSnapshot snapshot;
    auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
    snapshot.status = RetryUntil(
        deadline,
        [&]() -> absl::Status {
          absl::Status error;
          client::Client* client = EnsureClient(&reader_client_, deadline, &error);
          if (client == nullptr) return error;
          LATTICE_ASSIGN_OR_RETURN(snapshot.topic, client->GetTopic(options_.store, channel));
          snapshot.history.clear();
          if (history_limit > 0) {
            LATTICE_ASSIGN_OR_RETURN(v1::HistoryResponse page,
                                     client->History(options_.store, channel, history_limit));
            for (auto& message : *page.mutable_messages()) {
              snapshot.history.push_back(std::move(message));
            }
          }
          // Read after the history, so it is at or above every message in it.
          LATTICE_ASSIGN_OR_RETURN(v1::StoreInfo info, client->OpenStore(options_.store));
          snapshot.horizon = info.intentions();
          return absl::OkStatus();
        },
        sleep);
    loop_.Post([done = std::move(done), snapshot = std::move(snapshot)]() mutable {
      done(std::move(snapshot));
    });
  });
  cv_.notify_all();
}

void KernelBackend::FetchTopic(const std::string& channel, std::function<void(TopicAnswer)> done) {
  std::lock_guard<std::mutex> lock(mu_);
  reads_.push_back([this, channel, done = std::move(done)]() mutable {
    int64_t deadline = SteadyMs() + options_.read_deadline_ms;
    TopicAnswer answer;
    auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
    answer.status = RetryUntil(
        deadline,
        [&]() -> absl::Status {
          absl::Status error;
          client::Client* client = EnsureClient(&reader_client_, deadline, &error);
          if (client == nullptr) return error;
          LATTICE_ASSIGN_OR_RETURN(answer.topic, client->GetTopic(options_.store, channel));
          return absl::OkStatus();
        },
        sleep);
    loop_.Post([done = std::move(done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
  });
  cv_.notify_all();
}

void KernelBackend::ListChannels(std::function<void(ChannelList)> done) {
  std::lock_guard<std::mutex> lock(mu_);
  reads_.push_back([this, done = std::move(done)]() mutable {
    int64_t deadline = SteadyMs() + options_.read_deadline_ms;
    ChannelList list;
    auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
    list.status = RetryUntil(
        deadline,
        [&]() -> absl::Status {
          absl::Status error;
          client::Client* client = EnsureClient(&reader_client_, deadline, &error);
          if (client == nullptr) return error;
          LATTICE_ASSIGN_OR_RETURN(v1::ListChannelsResponse response,
                                   client->ListChannels(options_.store));
          list.channels.assign(response.channels().begin(), response.channels().end());
          return absl::OkStatus();
        },
        sleep);
    loop_.Post(
        [done = std::move(done), list = std::move(list)]() mutable { done(std::move(list)); });
  });
  cv_.notify_all();
}

void KernelBackend::FetchHistoryPage(const std::string& channel, uint32_t limit,
                                     const std::string& before,
                                     std::function<void(HistoryPage)> done) {
  std::lock_guard<std::mutex> lock(mu_);
  reads_.push_back([this, channel, limit, before, done = std::move(done)]() mutable {
    int64_t deadline = SteadyMs() + options_.read_deadline_ms;
    HistoryPage page;
    auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
    page.status = RetryUntil(
        deadline,
        [&]() -> absl::Status {
          absl::Status error;
          client::Client* client = EnsureClient(&reader_client_, deadline, &error);
          if (client == nullptr) return error;
          v1::HistoryRequest request;
          request.set_store(options_.store);
          request.set_channel(channel);
          request.set_limit(limit);
          request.set_before(before);
          LATTICE_ASSIGN_OR_RETURN(v1::HistoryResponse response, client->History(request));
          page.messages.assign(std::make_move_iterator(response.mutable_messages()->begin()),
                               std::make_move_iterator(response.mutable_messages()->end()));
          page.next_before = response.next_before();
          return absl::OkStatus();
        },
        sleep);
    loop_.Post(
        [done = std::move(done), page = std::move(page)]() mutable { done(std::move(page)); });
  });
  cv_.notify_all();
}

// ---- Watch -----------------------------------------------------------------------------------

void KernelBackend::WatchMain() {
  absl::Status status = watch_->Run([this](const v1::ChatMessage& message) {
    // Back-pressure: a loop that falls behind slows the watch, not the other way round.
    while (events_in_loop_.load() >= limits::kMaxQueuedWatchEvents) {
      if (!SleepUnlessStopping(std::chrono::milliseconds(5))) return false;
    }
    ++events_in_loop_;
    loop_.Post([this, message]() mutable {
      --events_in_loop_;
      on_message_(std::move(message));
    });
    return true;
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
  }
  if (status.ok()) status = absl::CancelledError("the chat watch ended");
  loop_.Post([this, status] { on_watch_failed_(status); });
}

}  // namespace lattice::irc
