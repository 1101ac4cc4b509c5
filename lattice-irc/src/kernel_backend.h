// ChatBackend over the Store Protocol, plus the gateway's watch of the chat store.
//
// Threads: writer lanes (kWriterLanes threads, each with its own connection) apply posts and
// topic changes; a client's writes always take the same lane, so they are applied in the
// order it sent them, while different clients' writes run concurrently and the kernel
// commits them together (group commit). A lane retries with backoff while the kernel is
// unreachable. A reader thread answers
// history, topic and channel-list reads within a deadline; a watch thread runs a
// ResumingWatch over the whole store from the moment the gateway started, resuming its
// cursor across kernel restarts. All of them hand their results to the event loop with
// EventLoop::Post.
//
// A write whose call failed after it may have reached the kernel (UNAVAILABLE, deadline) is
// not blindly repeated: once the kernel answers again, the lane looks for it in the
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
#include <unordered_set>
#include <vector>

#include "chat_backend.h"
#include "event_loop.h"
#include "lattice/client.h"
#include "lattice/client/resuming_watch.h"

namespace lattice::irc {

// Concurrent writers; a client's writes all go to one of them.
inline constexpr size_t kWriterLanes = 4;

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

  // Starts the three threads. REQUIRES: called once.
  void Start();
  // Stops and joins the threads; pending jobs are dropped without their callbacks.
  void Stop();

  void Post(const v1::PostRequest& request, uint64_t order,
            std::function<void(PostOutcome)> done) override;
  void SetTopic(const v1::SetTopicRequest& request, uint64_t order,
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

  // The watch's cursor and reconnect count, for logs.
  uint64_t watch_cursor() const;
  uint64_t watch_reconnects() const;

 private:
  struct WriteJob;
  struct Lane;
  using ReadJob = std::function<void()>;

  void Enqueue(uint64_t order, std::unique_ptr<WriteJob> job);
  void WriterMain(Lane& lane);
  void ReaderMain();
  void WatchMain();
  PostOutcome RunWrite(Lane& lane, WriteJob& job);
  // Whether `job` was applied by an attempt whose answer was lost; its hash when found.
  absl::StatusOr<std::string> FindApplied(client::Client& client, const WriteJob& job);
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
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::deque<ReadJob> reads_;

  std::unique_ptr<client::Client> reader_client_;
  std::unique_ptr<client::ResumingChatWatch> watch_;
  // Watch events posted to the loop and not yet handled: the watch waits above the limit.
  std::atomic<size_t> events_in_loop_{0};

  // Hashes the lanes already reported, so a duplicate check never mistakes one of them for
  // a lost attempt.
  std::mutex recent_mu_;
  std::deque<std::string> recent_order_;
  std::unordered_set<std::string> recent_;

  std::thread reader_;
  std::thread watcher_;
};

}  // namespace lattice::irc
