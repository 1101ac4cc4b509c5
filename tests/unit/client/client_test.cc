#include "lattice/client.h"

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "fake_kernel.h"
#include "grpc_status.h"
#include "lattice/client/resuming_watch.h"

namespace lattice::client {
namespace {

using lattice::testing::FakeKernel;
using lattice::testing::FakeKernelHooks;

class ClientTest : public ::testing::Test {
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

  void StartKernel(FakeKernelHooks hooks = {}) {
    kernel_ = FakeKernel::Start(socket_, "the-cookie", std::move(hooks));
    ASSERT_NE(kernel_, nullptr);
  }

  ClientOptions Options(const std::string& token = "") const {
    ClientOptions options;
    options.socket_path = socket_;
    options.token = token;
    options.service_id = "unit-test";
    options.default_deadline = std::chrono::seconds(5);
    return options;
  }

  std::string dir_;
  std::string socket_;
  std::unique_ptr<FakeKernel> kernel_;
};

TEST(GrpcStatus, CodesAndMessagesMapOneToOne) {
  for (int code = 0; code <= 16; ++code) {
    grpc::Status status(static_cast<grpc::StatusCode>(code), code == 0 ? "" : "why");
    absl::Status mapped = FromGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(mapped.code()), code);
    if (code != 0) {
      EXPECT_EQ(mapped.message(), "why");
    }
  }
}

TEST_F(ClientTest, ConnectSendsTheCookieAsBearerAndAnnouncesItself) {
  StartKernel();
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->session().node().name(), "fake");
  EXPECT_TRUE((*client)->session().admin());
  ASSERT_EQ(kernel_->connects().size(), 1u);
  EXPECT_EQ(kernel_->connects()[0].service_id(), "unit-test");
  EXPECT_EQ(kernel_->connects()[0].version(), ClientVersion());
  EXPECT_EQ(kernel_->authorizations().back(), "Bearer the-cookie");
}

TEST_F(ClientTest, ConnectWithATokenSendsTheToken) {
  FakeKernelHooks hooks;
  hooks.tokens = {"svc-token"};
  StartKernel(hooks);
  auto client = Client::Connect(Options("svc-token"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(kernel_->authorizations().back(), "Bearer svc-token");
}

TEST_F(ClientTest, ConnectReturnsTheKernelsRefusalWithItsCodeAndMessage) {
  StartKernel();
  auto client = Client::Connect(Options("wrong-token"));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client.status().message(), "unknown credentials");
}

TEST_F(ClientTest, ConnectWithoutAKernelNamesTheSocket) {
  auto client = Client::Connect(Options("token"));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(client.status().message()).find(socket_), std::string::npos);
}

TEST_F(ClientTest, ConnectToADeadSocketIsUnavailable) {
  StartKernel();
  kernel_->Shutdown();
  // The socket file may linger after the server stopped; nothing answers it.
  auto client = Client::Connect(Options());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable) << client.status();
}

TEST_F(ClientTest, UnaryCallsCarryTheRequestAndReturnTheResponse) {
  FakeKernelHooks hooks;
  hooks.get = [](const v1::GetRequest& request, v1::GetResponse* response) {
    if (request.key() != "present") return grpc::Status::OK;  // found=false
    response->set_found(true);
    response->set_value(request.store() + ":" + request.key());
    return grpc::Status::OK;
  };
  hooks.put = [](const v1::PutRequest& request, v1::WriteResult* response) {
    if (request.value().size() > 3) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "value too large");
    }
    response->set_cursor(7);
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();

  auto found = (*client)->Get("notes", "present");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->found());
  EXPECT_EQ(found->value(), "notes:present");

  auto absent = (*client)->Get("notes", "absent");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->found());

  auto written = (*client)->Put("notes", "k", "abc");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->cursor(), 7u);

  auto refused = (*client)->Put("notes", "k", "abcdef");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(), "value too large");

  auto unknown = (*client)->NodeStatus();
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(ClientTest, ScanHandsOverEveryEntryOfEveryPage) {
  FakeKernelHooks hooks;
  hooks.scan = [](grpc::ServerContext*, const v1::ScanRequest& request,
                  grpc::ServerWriter<v1::ScanPage>* writer) {
    for (int page = 0; page < 3; ++page) {
      v1::ScanPage message;
      for (int i = 0; i < 2; ++i) {
        auto* entry = message.add_entries();
        entry->set_key(request.prefix() + std::to_string(page * 2 + i));
      }
      writer->Write(message);
    }
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::string> keys;
  absl::Status status = (*client)->Scan("s", "k/", [&](const v1::ScanEntry& entry) {
    keys.push_back(entry.key());
    return true;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(keys, (std::vector<std::string>{"k/0", "k/1", "k/2", "k/3", "k/4", "k/5"}));
}

// A watch that sends `count` events and then stays open until cancelled.
FakeKernelHooks OpenEndedWatch(int count) {
  FakeKernelHooks hooks;
  hooks.kv_watch = [count](grpc::ServerContext* context, const v1::KvWatchRequest&,
                           grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    for (int i = 1; i <= count; ++i) {
      v1::KvWatchResponse response;
      response.add_events()->set_cursor(static_cast<uint64_t>(i));
      response.set_cursor(static_cast<uint64_t>(i));
      writer->Write(response);
    }
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  return hooks;
}

TEST_F(ClientTest, WatchEndsWhenTheCallbackSaysSo) {
  StartKernel(OpenEndedWatch(5));
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<uint64_t> cursors;
  absl::Status status =
      (*client)->WatchKv(v1::KvWatchRequest(), [&](const v1::KvWatchResponse& response) {
        cursors.push_back(response.cursor());
        return cursors.size() < 3;
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(cursors, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(ClientTest, WatchIsCancelledFromAnotherThread) {
  StartKernel(OpenEndedWatch(1));
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  WatchCanceller canceller;
  std::atomic<int> responses{0};
  std::thread canceller_thread([&] {
    ASSERT_TRUE(lattice::testing::WaitFor([&] { return responses.load() == 1; }));
    canceller.Cancel();
  });
  absl::Status status = (*client)->WatchKv(
      v1::KvWatchRequest(),
      [&](const v1::KvWatchResponse&) {
        ++responses;
        return true;
      },
      &canceller);
  canceller_thread.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(canceller.cancelled());
}

TEST_F(ClientTest, WatchStartedAfterCancelEndsAtOnce) {
  StartKernel(OpenEndedWatch(1));
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  WatchCanceller canceller;
  canceller.Cancel();
  int responses = 0;
  absl::Status status = (*client)->WatchKv(
      v1::KvWatchRequest(),
      [&](const v1::KvWatchResponse&) {
        ++responses;
        return true;
      },
      &canceller);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(responses, 0);
}

TEST_F(ClientTest, WatchReportsAKernelThatWentAway) {
  StartKernel(OpenEndedWatch(1));
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  std::atomic<int> responses{0};
  std::thread stopper([&] {
    ASSERT_TRUE(lattice::testing::WaitFor([&] { return responses.load() == 1; }));
    kernel_->Shutdown();
  });
  absl::Status status = (*client)->WatchKv(v1::KvWatchRequest(),
                                           [&](const v1::KvWatchResponse&) {
                                             ++responses;
                                             return true;
                                           });
  stopper.join();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(IsResumableStreamEnd(status, false)) << status;
}

}  // namespace
}  // namespace lattice::client
