// The gateway's link to the kernel: asynchronous writes, reader and watch threads (see
// kernel_backend.h).
#include "kernel_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "lattice/client/backoff.h"
#include "lattice/client/credentials.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"
#include "lattice/common/status.h"
#include "limits.h"

namespace lattice::irc {
namespace {

using Clock = std::chrono::steady_clock;

// How many recently reported hashes the writer keeps, so the duplicate check never mistakes
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

// gRPC's codes and absl's are the same numbers.
absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

client::BackoffPolicy KernelBackoff() {
  client::BackoffPolicy policy;
  policy.initial = std::chrono::milliseconds(50);
  policy.max = std::chrono::milliseconds(2000);
  return policy;
}

}  // namespace

struct KernelBackend::WriteJob {
  enum class Kind { kPost, kTopic, kReply, kReact, kModes };
  Kind kind = Kind::kPost;
  v1::PostRequest post;
  v1::SetTopicRequest topic;
  v1::SetModesRequest modes;
  v1::ReplyRequest reply;
  v1::ReactRequest react;
  std::function<void(PostOutcome)> done;
  uint64_t first_attempt_ms = 0;
  client::Backoff backoff{KernelBackoff()};
  bool uncertain = false;  // an earlier attempt may have been applied
  bool checked = false;    // ... and the history said it was not
  bool warned = false;
  int unclear_retries = 0;
};

struct KernelBackend::WriteQueue {
  std::deque<std::unique_ptr<WriteJob>> jobs;  // the head is in flight when `busy`
  bool busy = false;
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

  std::string socket = options_.client.socket_path.empty() ? DefaultClientSocketPath()
                                                           : options_.client.socket_path;
  auto secret = client::ResolveSecret(options_.client.token, socket);
  if (secret.ok()) authorization_ = "Bearer " + *secret;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(::lattice::limits::kMaxRpcMessageBytes);
  args.SetMaxSendMessageSize(::lattice::limits::kMaxRpcMessageBytes);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  write_channel_ =
      grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
  chat_ = v1::Chat::NewStub(write_channel_);

  reader_ = std::thread([this] { ReaderMain(); });
  watcher_ = std::thread([this] { WatchMain(); });
}

void KernelBackend::Stop() {
  std::vector<std::shared_ptr<grpc::ClientContext>> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !reader_.joinable()) return;
    stopping_ = true;
    calls.assign(calls_.begin(), calls_.end());
  }
  for (const auto& call : calls) call->TryCancel();
  calls.clear();
  {
    // Every callback of a call in flight runs (cancelled or not) before `this` goes.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return calls_.empty(); });
  }
  cv_.notify_all();
  if (watch_) watch_->Cancel();
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

size_t KernelBackend::queued_writes() const { return queued_writes_; }

void KernelBackend::Enqueue(uint64_t order, std::unique_ptr<WriteJob> job) {
  WriteQueue& queue = write_queues_[order];
  queue.jobs.push_back(std::move(job));
  ++queued_writes_;
  if (!queue.busy) to_start_.push_back(order);
}

void KernelBackend::StartQueuedWrites() {
  std::vector<uint64_t> orders;
  orders.swap(to_start_);
  for (uint64_t order : orders) StartNext(order);
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

void KernelBackend::SetModes(const v1::SetModesRequest& request, uint64_t order,
                             std::function<void(PostOutcome)> done) {
  auto job = std::make_unique<WriteJob>();
  job->kind = WriteJob::Kind::kModes;
  job->modes = request;
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

void KernelBackend::StartNext(uint64_t order) {
  auto it = write_queues_.find(order);
  if (it == write_queues_.end() || it->second.busy) return;
  if (it->second.jobs.empty()) {
    write_queues_.erase(it);
    return;
  }
  it->second.busy = true;
  it->second.jobs.front()->first_attempt_ms = WallMs();
  Attempt(order);
}

void KernelBackend::Attempt(uint64_t order) {
  auto it = write_queues_.find(order);
  if (it == write_queues_.end() || it->second.jobs.empty()) return;
  WriteJob& job = *it->second.jobs.front();
  bool kind_checked = job.kind == WriteJob::Kind::kPost || job.kind == WriteJob::Kind::kTopic;
  if (job.uncertain && !job.checked && kind_checked) {
    CheckApplied(order, job);
  } else {
    CallWrite(order, job);
  }
}

std::shared_ptr<grpc::ClientContext> KernelBackend::NewWriteContext() {
  auto context = std::make_shared<grpc::ClientContext>();
  context->AddMetadata("authorization", authorization_);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(options_.write_deadline_ms));
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return nullptr;
  calls_.insert(context);
  return context;
}

void KernelBackend::EndCall(const std::shared_ptr<grpc::ClientContext>& context,
                            EventLoop::Task task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stopping_) loop_.Post(std::move(task));
  calls_.erase(context);
  cv_.notify_all();
}

void KernelBackend::CallWrite(uint64_t order, WriteJob& job) {
  auto context = NewWriteContext();
  if (context == nullptr) return;
  auto result = std::make_shared<v1::WriteResult>();
  auto on_done = [this, order, context, result](grpc::Status status) {
    EndCall(context, [this, order, result, status = FromGrpc(status)] {
      OnWriteAnswer(order, status, *result);
    });
  };
  // The request lives in the job, which stays at the head of its queue until answered.
  switch (job.kind) {
    case WriteJob::Kind::kPost:
      chat_->async()->Post(context.get(), &job.post, result.get(), std::move(on_done));
      break;
    case WriteJob::Kind::kTopic:
      chat_->async()->SetTopic(context.get(), &job.topic, result.get(), std::move(on_done));
      break;
    case WriteJob::Kind::kReply:
      chat_->async()->Reply(context.get(), &job.reply, result.get(), std::move(on_done));
      break;
    case WriteJob::Kind::kReact:
      chat_->async()->React(context.get(), &job.react, result.get(), std::move(on_done));
      break;
    case WriteJob::Kind::kModes:
      chat_->async()->SetModes(context.get(), &job.modes, result.get(), std::move(on_done));
      break;
  }
}

void KernelBackend::CheckApplied(uint64_t order, WriteJob& job) {
  auto context = NewWriteContext();
  if (context == nullptr) return;
  auto request = std::make_shared<v1::HistoryRequest>();
  request->set_store(options_.store);
  request->set_channel(job.kind == WriteJob::Kind::kPost ? job.post.channel()
                                                         : job.topic.channel());
  request->set_limit(kCheckDepth);
  auto page = std::make_shared<v1::HistoryResponse>();
  chat_->async()->History(context.get(), request.get(), page.get(),
                          [this, order, context, request, page](grpc::Status status) {
                            EndCall(context, [this, order, page, status = FromGrpc(status)] {
                              OnCheckAnswer(order, status, *page);
                            });
                          });
}

void KernelBackend::OnCheckAnswer(uint64_t order, const absl::Status& status,
                                  const v1::HistoryResponse& page) {
  auto it = write_queues_.find(order);
  if (it == write_queues_.end() || it->second.jobs.empty()) return;
  WriteJob& job = *it->second.jobs.front();
  if (!status.ok()) {
    if (IsTransient(status)) return RetryLater(order);
    job.checked = true;  // the history cannot tell: post again
    return Attempt(order);
  }
  bool post = job.kind == WriteJob::Kind::kPost;
  std::string_view kind = post ? "post" : "topic";
  const std::string& text = post ? job.post.text() : job.topic.text();
  const std::string& sender = post ? job.post.sender() : job.topic.sender();
  bool action = post && job.post.action();
  // A post that carries a msgid is known by it; anything else by what it says.
  bool by_msgid = post && !job.post.msgid().empty();
  for (auto m = page.messages().rbegin(); m != page.messages().rend(); ++m) {
    if (m->hlc().wall_ms() + kClockSlackMs < job.first_attempt_ms) break;
    bool same = by_msgid ? m->msgid() == job.post.msgid()
                         : m->kind() == kind && m->author() == options_.node_id &&
                               m->sender() == sender && m->text() == text &&
                               m->action() == action;
    if (same && !IsRecentHash(m->hash())) {
      spdlog::info("a write interrupted by the kernel's absence had been applied ({})",
                   m->hash());
      RememberHash(m->hash());
      return Finish(order, {absl::OkStatus(), m->hash(), m->hlc().wall_ms()});
    }
  }
  job.checked = true;
  Attempt(order);
}

void KernelBackend::OnWriteAnswer(uint64_t order, const absl::Status& status,
                                  const v1::WriteResult& result) {
  auto it = write_queues_.find(order);
  if (it == write_queues_.end() || it->second.jobs.empty()) return;
  WriteJob& job = *it->second.jobs.front();
  if (status.ok()) {
    if (job.warned) spdlog::info("the kernel answers again; queued messages are being posted");
    RememberHash(result.hash());
    return Finish(order, {absl::OkStatus(), result.hash(), result.hlc().wall_ms()});
  }
  bool retry =
      IsTransient(status) || (IsUnclear(status) && ++job.unclear_retries <= kMaxUnclearRetries);
  if (!retry) return Finish(order, {status, "", 0});
  job.uncertain = true;
  job.checked = false;
  if (!job.warned) {
    job.warned = true;
    spdlog::warn("cannot post to the kernel ({}); retrying with backoff", status.message());
  }
  RetryLater(order);
}

void KernelBackend::RetryLater(uint64_t order) {
  auto it = write_queues_.find(order);
  if (it == write_queues_.end() || it->second.jobs.empty()) return;
  auto delay = it->second.jobs.front()->backoff.Next();
  loop_.RunAt(EventLoop::NowMs() + delay.count(), [this, order] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    // A kernel that restarted without a service token has a new admin cookie.
    std::string socket = options_.client.socket_path.empty() ? DefaultClientSocketPath()
                                                             : options_.client.socket_path;
    if (auto secret = client::ResolveSecret(options_.client.token, socket); secret.ok()) {
      authorization_ = "Bearer " + *secret;
    }
    Attempt(order);
  });
}

void KernelBackend::Finish(uint64_t order, PostOutcome outcome) {
  auto it = write_queues_.find(order);
  if (it == write_queues_.end() || it->second.jobs.empty()) return;
  std::unique_ptr<WriteJob> job = std::move(it->second.jobs.front());
  it->second.jobs.pop_front();
  it->second.busy = false;
  --queued_writes_;
  // `done` may submit this client's next write; it starts then, or below.
  job->done(std::move(outcome));
  StartNext(order);
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
          // Topic and modes in one read; a kernel older than Chat.GetChannel has topics only.
          snapshot.modes.clear();
          absl::StatusOr<v1::ChannelInfo> settings = client->GetChannel(options_.store, channel);
          if (settings.ok()) {
            snapshot.topic = settings->topic();
            snapshot.messages = settings->messages();
            snapshot.modes.assign(settings->modes().begin(), settings->modes().end());
          } else if (settings.status().code() == absl::StatusCode::kUnimplemented) {
            LATTICE_ASSIGN_OR_RETURN(snapshot.topic, client->GetTopic(options_.store, channel));
          } else {
            return settings.status();
          }
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
