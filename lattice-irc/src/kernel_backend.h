// ChatBackend over the Store Protocol, plus the gateway's watch of the chat store.
//
// Writes (posts, topic changes, replies, reactions) are asynchronous gRPC calls (the callback
// API) on a channel of their own: no thread waits for one. A client's writes (one `order`
// key) are applied in the order it submitted them because each key has at most one write in
// flight and its next starts when the kernel has answered; any number of keys are in flight
// at once, and the kernel commits them together (group commit). All the writer's state lives
// on the event loop: a call starts there, its answer is posted back there, and a retry waits
// on a loop timer. While the kernel is unreachable a write is retried with backoff.
//
// A reader thread answers history, topic and channel-list reads within a deadline; a watch
// thread runs a ResumingWatch over the whole store from the moment the gateway started,
// resuming its cursor across kernel restarts. Both hand their results to the event loop with
// EventLoop::Post.
//
// A write whose call failed after it may have reached the kernel (UNAVAILABLE, deadline) is
// not blindly repeated: once the kernel answers again, the writer looks for it in the
// channel's recent history (same node, sender, text, no earlier than the first attempt, not
// a hash already reported) and reports that hash instead of posting a duplicate.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "chat_backend.h"
#include "event_loop.h"
#include "lattice/client.h"
#include "lattice/client/resuming_watch.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::irc {

struct KernelBackendOptions {
  client::ClientOptions client;  // socket, token, service id
  std::string store;
  std::string node_id;  // this node, hex (from Controller.Connect)
  int64_t read_deadline_ms = 5'000;
  int64_t write_deadline_ms = 10'000;
};

class KernelBackend final : public ChatBackend {
 public:
  // `on_message` and `on_watch_failed` run on the loop.
  KernelBackend(KernelBackendOptions options, EventLoop& loop,
                std::function<void(v1::ChatMessage)> on_message,
                std::function<void(absl::Status)> on_watch_failed);
  ~KernelBackend() override;

  // Opens the write channel and starts the reader and watch threads. REQUIRES: called
  // once, on the loop thread.
  void Start();
  // Cancels the writes in flight and waits for their calls to end; stops and joins the
  // threads. Pending jobs are dropped without their callbacks.
  void Stop();

  // Starts the writes queued since the last call. The gateway calls it after each round of the
  // loop has flushed its output, so the kernel's work for a post (on this machine's same cores)
  // begins once the post's local delivery is on the wire.
  void StartQueuedWrites();

  void Post(const v1::PostRequest& request, uint64_t order,
            std::function<void(PostOutcome)> done) override;
  void SetTopic(const v1::SetTopicRequest& request, uint64_t order,
                std::function<void(PostOutcome)> done) override;
  void SetModes(const v1::SetModesRequest& request, uint64_t order,
                std::function<void(PostOutcome)> done) override;
  void Reply(const v1::ReplyRequest& request, uint64_t order,
             std::function<void(PostOutcome)> done) override;
  void React(const v1::ReactRequest& request, uint64_t order,
             std::function<void(PostOutcome)> done) override;
  void FetchChannel(const std::string& channel, uint32_t history_limit,
                    std::function<void(ChannelSnapshot)> done) override;
  void FetchTopic(const std::string& channel, std::function<void(TopicAnswer)> done) override;
  void ListChannels(std::function<void(ChannelList)> done) override;
  void FetchHistoryPage(const std::string& channel, uint32_t limit, const std::string& before,
                        std::function<void(HistoryPage)> done) override;

  // Writes waiting or in flight, for tests and logs (loop thread).
  size_t queued_writes() const;

  // The watch's cursor and reconnect count, for logs.
  uint64_t watch_cursor() const;
  uint64_t watch_reconnects() const;

 private:
  struct WriteJob;
  struct WriteQueue;
  using ReadJob = std::function<void()>;

  // ---- Writes (loop thread) ----
  void Enqueue(uint64_t order, std::unique_ptr<WriteJob> job);
  // Starts the next write of `order` unless one is in flight.
  void StartNext(uint64_t order);
  // One attempt at the head write of `order`; after an uncertain failure it first checks
  // whether an earlier attempt was applied.
  void Attempt(uint64_t order);
  void CallWrite(uint64_t order, WriteJob& job);
  void CheckApplied(uint64_t order, WriteJob& job);
  void OnWriteAnswer(uint64_t order, const absl::Status& status, const v1::WriteResult& result);
  void OnCheckAnswer(uint64_t order, const absl::Status& status,
                     const v1::HistoryResponse& page);
  void RetryLater(uint64_t order);
  void Finish(uint64_t order, PostOutcome outcome);
  // A context for one write call, registered so Stop can cancel it.
  std::shared_ptr<grpc::ClientContext> NewWriteContext();
  // Runs on a gRPC thread when a call ends: hands `task` to the loop and unregisters it.
  void EndCall(const std::shared_ptr<grpc::ClientContext>& context, EventLoop::Task task);

  // ---- Reads and watch (threads) ----
  void ReaderMain();
  void WatchMain();
  // A connected client in `*slot`, connecting first when needed; nullptr when stopping.
  client::Client* EnsureClient(std::unique_ptr<client::Client>* slot, int64_t deadline_ms,
                               absl::Status* error);
  bool SleepUnlessStopping(std::chrono::milliseconds delay);
  void RememberHash(const std::string& hash);
  bool IsRecentHash(const std::string& hash);

  KernelBackendOptions options_;
  EventLoop& loop_;
  std::function<void(v1::ChatMessage)> on_message_;
  std::function<void(absl::Status)> on_watch_failed_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<ReadJob> reads_;
  // Write calls in flight, so Stop can cancel them and wait for their callbacks (under mu_).
  std::unordered_set<std::shared_ptr<grpc::ClientContext>> calls_;

  // The write channel and its credentials; the queues of writes per order key (loop thread).
  std::shared_ptr<grpc::Channel> write_channel_;
  std::unique_ptr<v1::Chat::Stub> chat_;
  std::string authorization_;
  std::unordered_map<uint64_t, WriteQueue> write_queues_;
  size_t queued_writes_ = 0;
  std::vector<uint64_t> to_start_;  // order keys with writes queued this round

  std::unique_ptr<client::Client> reader_client_;
  std::unique_ptr<client::ResumingChatWatch> watch_;
  // Watch events posted to the loop and not yet handled: the watch waits above the limit.
  std::atomic<size_t> events_in_loop_{0};

  // Hashes the writer already reported, so a duplicate check never mistakes one of them for
  // a lost attempt.
  std::mutex recent_mu_;
  std::deque<std::string> recent_order_;
  std::unordered_set<std::string> recent_;

  std::thread reader_;
  std::thread watcher_;
};

}  // namespace lattice::irc
