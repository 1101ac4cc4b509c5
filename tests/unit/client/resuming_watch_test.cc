#include "lattice/client/resuming_watch.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "fake_kernel.h"

namespace lattice::client {
namespace {

using lattice::testing::FakeKernel;
using lattice::testing::FakeKernelHooks;
using lattice::testing::WaitFor;

v1::KvWatchResponse Events(std::vector<uint64_t> cursors) {
  v1::KvWatchResponse response;
  for (uint64_t cursor : cursors) {
    auto* event = response.add_events();
    event->set_cursor(cursor);
    event->set_key("k" + std::to_string(cursor));
  }
  if (!cursors.empty()) response.set_cursor(cursors.back());
  return response;
}

// Records what each Watch call asked for, thread-safely.
struct WatchLog {
  std::mutex mu;
  std::vector<v1::KvWatchRequest> requests;
  void Add(const v1::KvWatchRequest& request) {
    std::lock_guard<std::mutex> lock(mu);
    requests.push_back(request);
  }
  std::vector<v1::KvWatchRequest> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return requests;
  }
};

class ResumingWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = lattice::testing::MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    socket_ = dir_ + "/kernel.sock";
  }
  void TearDown() override {
    kernel_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientOptions Options() const {
    ClientOptions options;
    options.socket_path = socket_;
    options.default_deadline = std::chrono::seconds(5);
    return options;
  }

  ResumingWatchOptions FastRetries() {
    ResumingWatchOptions options;
    options.backoff.initial = std::chrono::milliseconds(10);
    options.backoff.max = std::chrono::milliseconds(100);
    options.on_retry = [this](const absl::Status& cause, std::chrono::milliseconds) {
      std::lock_guard<std::mutex> lock(mu_);
      retry_causes_.push_back(cause);
    };
    return options;
  }

  std::string dir_;
  std::string socket_;
  std::unique_ptr<FakeKernel> kernel_;
  std::mutex mu_;
  std::vector<absl::Status> retry_causes_;
};

TEST_F(ResumingWatchTest, ResumesAfterUnavailableFromTheLastCursorWithoutDuplicates) {
  WatchLog log;
  FakeKernelHooks hooks;
  hooks.kv_watch = [&log](grpc::ServerContext* context, const v1::KvWatchRequest& request,
                          grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    log.Add(request);
    if (request.from_cursor() == 0) {
      writer->Write(Events({1, 2}));
      writer->Write(Events({3}));
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "kernel restarting");
    }
    // The kernel may send the event at the resume cursor again; it must not be seen twice.
    writer->Write(Events({3, 4}));
    writer->Write(Events({5}));
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  kernel_ = FakeKernel::Start(socket_, "cookie", hooks);
  ASSERT_NE(kernel_, nullptr);

  v1::KvWatchRequest request;
  request.set_store("s");
  request.set_prefix("k");
  ResumingKvWatch watch(Options(), request, FastRetries());
  std::vector<uint64_t> seen;
  absl::Status status = watch.Run([&](const v1::KvEvent& event) {
    seen.push_back(event.cursor());
    return seen.size() < 5;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(watch.cursor(), 5u);
  EXPECT_EQ(watch.reconnects(), 1u);

  auto requests = log.Get();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].from_cursor(), 3u);
  EXPECT_FALSE(requests[1].from_now());
  EXPECT_EQ(requests[1].store(), "s");
  EXPECT_EQ(requests[1].prefix(), "k");
  ASSERT_EQ(retry_causes_.size(), 1u);
  EXPECT_EQ(retry_causes_[0].code(), absl::StatusCode::kUnavailable);
}

TEST_F(ResumingWatchTest, SurvivesAKernelRestartWithANewCookie) {
  WatchLog log;
  FakeKernelHooks first;
  first.kv_watch = [&log](grpc::ServerContext* context, const v1::KvWatchRequest& request,
                          grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    log.Add(request);
    writer->Write(Events({1, 2}));
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  FakeKernelHooks second;
  second.kv_watch = [&log](grpc::ServerContext* context, const v1::KvWatchRequest& request,
                           grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    log.Add(request);
    writer->Write(Events({3}));
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  kernel_ = FakeKernel::Start(socket_, "cookie-1", first);
  ASSERT_NE(kernel_, nullptr);

  ResumingKvWatch watch(Options(), v1::KvWatchRequest(), FastRetries());
  std::mutex seen_mu;
  std::vector<uint64_t> seen;
  absl::Status status;
  std::thread consumer([&] {
    status = watch.Run([&](const v1::KvEvent& event) {
      std::lock_guard<std::mutex> lock(seen_mu);
      seen.push_back(event.cursor());
      return seen.size() < 3;
    });
  });
  auto seen_count = [&] {
    std::lock_guard<std::mutex> lock(seen_mu);
    return seen.size();
  };
  ASSERT_TRUE(WaitFor([&] { return seen_count() == 2; }));
  kernel_->Shutdown();
  kernel_.reset();
  // The consumer retries against a dead socket for a while before the new kernel is up.
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu_);
    return retry_causes_.size() >= 2;
  }));
  kernel_ = FakeKernel::Start(socket_, "cookie-2", second);
  ASSERT_NE(kernel_, nullptr);
  consumer.join();

  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));
  auto requests = log.Get();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].from_cursor(), 2u);
  EXPECT_EQ(kernel_->authorizations().back(), "Bearer cookie-2");
}

TEST_F(ResumingWatchTest, CancelEndsRunWhileItWaitsToReconnect) {
  // No kernel at all: Run waits a minute before its next attempt, until cancelled.
  std::promise<void> waiting;
  std::atomic<int> retries{0};
  ResumingWatchOptions options;
  options.backoff.initial = std::chrono::minutes(1);
  options.backoff.max = std::chrono::minutes(1);
  options.backoff.jitter = 0;
  options.on_retry = [&](const absl::Status&, std::chrono::milliseconds) {
    if (retries++ == 0) waiting.set_value();
  };
  ResumingKvWatch watch(Options(), v1::KvWatchRequest(), options);
  auto run = std::async(std::launch::async, [&] {
    return watch.Run([](const v1::KvEvent&) { return true; });
  });
  bool came_to_wait =
      waiting.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  watch.Cancel();
  ASSERT_TRUE(came_to_wait) << "Run never came to wait to reconnect";
  // Cancel ends the wait: Run returns without waiting out its minute.
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "Run kept waiting to reconnect after Cancel";
  absl::Status status = run.get();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(retries.load(), 1);
}

TEST_F(ResumingWatchTest, CancelEndsARunningStream) {
  FakeKernelHooks hooks;
  hooks.kv_watch = [](grpc::ServerContext* context, const v1::KvWatchRequest&,
                      grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    writer->Write(Events({1}));
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  kernel_ = FakeKernel::Start(socket_, "cookie", hooks);
  ASSERT_NE(kernel_, nullptr);
  ResumingKvWatch watch(Options(), v1::KvWatchRequest(), FastRetries());
  std::atomic<int> events{0};
  std::thread canceller([&] {
    ASSERT_TRUE(WaitFor([&] { return events.load() == 1; }));
    watch.Cancel();
  });
  absl::Status status = watch.Run([&](const v1::KvEvent&) {
    ++events;
    return true;
  });
  canceller.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(watch.reconnects(), 0u);
}

TEST_F(ResumingWatchTest, ErrorsThatRetryingCannotFixEndRun) {
  FakeKernelHooks hooks;
  hooks.kv_watch = [](grpc::ServerContext*, const v1::KvWatchRequest&,
                      grpc::ServerWriter<v1::KvWatchResponse>*) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "token may not watch store s");
  };
  kernel_ = FakeKernel::Start(socket_, "cookie", hooks);
  ASSERT_NE(kernel_, nullptr);
  ResumingKvWatch watch(Options(), v1::KvWatchRequest(), FastRetries());
  absl::Status status = watch.Run([](const v1::KvEvent&) { return true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "token may not watch store s");
}

TEST_F(ResumingWatchTest, AServiceTokenThatIsRefusedIsFinal) {
  kernel_ = FakeKernel::Start(socket_, "cookie", FakeKernelHooks());
  ASSERT_NE(kernel_, nullptr);
  ClientOptions options = Options();
  options.token = "revoked-token";
  ResumingKvWatch watch(options, v1::KvWatchRequest(), FastRetries());
  absl::Status status = watch.Run([](const v1::KvEvent&) { return true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ResumingWatchTest, FromNowIsPinnedToTheStoresCursorBeforeWatching) {
  WatchLog log;
  FakeKernelHooks hooks;
  hooks.open_store = [](const v1::OpenStoreRequest& request, v1::StoreInfo* info) {
    if (request.store() != "notes") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no store");
    info->set_intentions(30);
    return grpc::Status::OK;
  };
  hooks.kv_watch = [&log](grpc::ServerContext* context, const v1::KvWatchRequest& request,
                          grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    log.Add(request);
    if (log.Get().size() == 1) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone");
    writer->Write(Events({31}));
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  kernel_ = FakeKernel::Start(socket_, "cookie", hooks);
  ASSERT_NE(kernel_, nullptr);
  v1::KvWatchRequest request;
  request.set_store("notes");
  request.set_from_now(true);
  ResumingKvWatch watch(Options(), request, FastRetries());
  std::vector<uint64_t> seen;
  absl::Status status = watch.Run([&](const v1::KvEvent& event) {
    seen.push_back(event.cursor());
    return false;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<uint64_t>{31}));
  auto requests = log.Get();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& sent : requests) {
    EXPECT_FALSE(sent.from_now());
    EXPECT_EQ(sent.from_cursor(), 30u);
  }
}

// Without OpenStore (a token lacking the read right), the first response's cursor pins it.
TEST_F(ResumingWatchTest, FromNowResumesFromTheFirstCursorTheKernelReports) {
  WatchLog log;
  FakeKernelHooks hooks;
  hooks.kv_watch = [&log](grpc::ServerContext* context, const v1::KvWatchRequest& request,
                          grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    log.Add(request);
    if (request.from_now()) {
      v1::KvWatchResponse position;  // no events, just where the log ends
      position.set_cursor(41);
      writer->Write(position);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone");
    }
    writer->Write(Events({42}));
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  kernel_ = FakeKernel::Start(socket_, "cookie", hooks);
  ASSERT_NE(kernel_, nullptr);
  v1::KvWatchRequest request;
  request.set_from_now(true);
  ResumingKvWatch watch(Options(), request, FastRetries());
  std::vector<uint64_t> seen;
  absl::Status status = watch.Run([&](const v1::KvEvent& event) {
    seen.push_back(event.cursor());
    return false;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<uint64_t>{42}));
  auto requests = log.Get();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_FALSE(requests[1].from_now());
  EXPECT_EQ(requests[1].from_cursor(), 41u);
}

TEST_F(ResumingWatchTest, ChatWatchResumesToo) {
  std::atomic<int> calls{0};
  FakeKernelHooks hooks;
  hooks.chat_watch = [&calls](grpc::ServerContext* context, const v1::ChatWatchRequest& request,
                              grpc::ServerWriter<v1::ChatWatchResponse>* writer) {
    ++calls;
    v1::ChatWatchResponse response;
    auto* message = response.add_messages();
    message->set_cursor(request.from_cursor() + 1);
    message->set_text("hello");
    response.set_cursor(request.from_cursor() + 1);
    writer->Write(response);
    if (request.from_cursor() == 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone");
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  kernel_ = FakeKernel::Start(socket_, "cookie", hooks);
  ASSERT_NE(kernel_, nullptr);
  ResumingChatWatch watch(Options(), v1::ChatWatchRequest(), FastRetries());
  std::vector<uint64_t> seen;
  absl::Status status = watch.Run([&](const v1::ChatMessage& message) {
    seen.push_back(message.cursor());
    return seen.size() < 2;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(calls.load(), 2);
}

TEST(IsResumableStreamEnd, OnlyBreakagesAreResumed) {
  EXPECT_TRUE(IsResumableStreamEnd(absl::UnavailableError("x"), false));
  EXPECT_TRUE(IsResumableStreamEnd(absl::OkStatus(), false));
  EXPECT_TRUE(IsResumableStreamEnd(absl::CancelledError("server shut down"), false));
  EXPECT_FALSE(IsResumableStreamEnd(absl::CancelledError("we asked"), true));
  EXPECT_FALSE(IsResumableStreamEnd(absl::PermissionDeniedError("x"), false));
  EXPECT_FALSE(IsResumableStreamEnd(absl::NotFoundError("no store"), false));
  EXPECT_FALSE(IsResumableStreamEnd(absl::InvalidArgumentError("x"), false));
}

}  // namespace
}  // namespace lattice::client
