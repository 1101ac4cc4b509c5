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
using lattice::testing::Latest;

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

TEST_F(ClientTest, FloatingAndStoreStatusAskAboutTheNamedStore) {
  Latest<v1::StoreRef> floating_seen;
  Latest<v1::StoreRef> status_seen;
  FakeKernelHooks hooks;
  hooks.floating = [&](const v1::StoreRef& request, v1::FloatingResponse* response) {
    floating_seen.Set(request);
    auto* parked = response->add_intentions();
    parked->set_hash("h1");
    parked->add_missing("d1");
    return grpc::Status::OK;
  };
  hooks.store_status = [&](const v1::StoreRef& request, v1::StoreStatusResponse* response) {
    status_seen.Set(request);
    response->set_witnessed(42);
    response->add_peers()->set_node_id("peer-1");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();

  auto floating = (*client)->Floating("notes");
  ASSERT_TRUE(floating.ok()) << floating.status();
  EXPECT_EQ(floating_seen.Get().store(), "notes");
  ASSERT_EQ(floating->intentions_size(), 1);
  EXPECT_EQ(floating->intentions(0).missing(0), "d1");

  auto status = (*client)->StoreStatus("talk");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status_seen.Get().store(), "talk");
  EXPECT_EQ(status->witnessed(), 42u);
  EXPECT_EQ(status->peers(0).node_id(), "peer-1");
}

TEST_F(ClientTest, SyncStoreCarriesPeerAndTimeoutAndReturnsEveryResult) {
  Latest<v1::SyncStoreRequest> seen;
  FakeKernelHooks hooks;
  hooks.sync_store = [&](const v1::SyncStoreRequest& request, v1::SyncStoreResponse* response) {
    seen.Set(request);
    auto* good = response->add_results();
    good->set_node_id("p1");
    good->set_ok(true);
    good->set_fetched(3);
    auto* bad = response->add_results();
    bad->set_node_id("p2");
    bad->set_error("timed out");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  auto synced = (*client)->SyncStore("notes", "p1", std::chrono::seconds(2));
  ASSERT_TRUE(synced.ok()) << synced.status();
  EXPECT_EQ(seen.Get().store(), "notes");
  EXPECT_EQ(seen.Get().peer(), "p1");
  EXPECT_EQ(seen.Get().timeout_ms(), 2000u);
  ASSERT_EQ(synced->results_size(), 2);
  EXPECT_EQ(synced->results(0).fetched(), 3u);
  EXPECT_FALSE(synced->results(1).ok());
  EXPECT_EQ(synced->results(1).error(), "timed out");
}

// The time the fake kernel saw left for its latest call is `expected`, give or take the time
// in transit and gRPC's rounding up of the timeout it sends (to whole seconds for long ones).
void ExpectBudget(const FakeKernel& kernel, std::chrono::milliseconds expected) {
  const auto slack = std::chrono::seconds(2);
  std::chrono::milliseconds budget = kernel.last_call_budget();
  EXPECT_LE(budget.count(), (expected + slack).count());
  EXPECT_GE(budget.count(), (expected - slack).count());
}

TEST_F(ClientTest, WaitingCallsGetTheirTimeoutPlusAMarginAsDeadline) {
  FakeKernelHooks hooks;
  hooks.sync_store = [](const v1::SyncStoreRequest&, v1::SyncStoreResponse*) {
    return grpc::Status::OK;
  };
  hooks.join_mesh = [](const v1::JoinMeshRequest&, v1::JoinMeshResponse*) {
    return grpc::Status::OK;
  };
  hooks.list_peers = [](const v1::ListPeersRequest&, v1::ListPeersResponse*) {
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());  // default deadline: 5 s
  ASSERT_TRUE(client.ok()) << client.status();

  ASSERT_TRUE((*client)->SyncStore("s", "", std::chrono::seconds(60)).ok());
  ExpectBudget(*kernel_, std::chrono::seconds(60) + Client::kLongCallMargin);
  ASSERT_TRUE((*client)->SyncStore("s").ok());
  ExpectBudget(*kernel_, Client::kDefaultKernelWait + Client::kLongCallMargin);
  ASSERT_TRUE((*client)->JoinMesh("token", "", std::chrono::minutes(3)).ok());
  ExpectBudget(*kernel_, std::chrono::minutes(3) + Client::kLongCallMargin);
  // Other calls keep the default deadline.
  ASSERT_TRUE((*client)->ListPeers().ok());
  ExpectBudget(*kernel_, std::chrono::seconds(5));
}

TEST_F(ClientTest, AWaitingCallOutlivesTheDefaultDeadline) {
  const auto kernel_work = std::chrono::milliseconds(600);
  FakeKernelHooks hooks;
  hooks.sync_store = [&](const v1::SyncStoreRequest&, v1::SyncStoreResponse* response) {
    std::this_thread::sleep_for(kernel_work);
    response->add_results()->set_ok(true);
    return grpc::Status::OK;
  };
  hooks.status = [&](const v1::StatusRequest&, v1::StatusResponse*) {
    std::this_thread::sleep_for(kernel_work);
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  ClientOptions options = Options();
  options.default_deadline = std::chrono::milliseconds(200);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  // The same work in an ordinary call runs out of time...
  EXPECT_EQ((*client)->NodeStatus().status().code(), absl::StatusCode::kDeadlineExceeded);
  // ...but a sync may take its timeout.
  auto synced = (*client)->SyncStore("s", "", std::chrono::seconds(1));
  ASSERT_TRUE(synced.ok()) << synced.status();
  EXPECT_TRUE(synced->results(0).ok());
}

TEST_F(ClientTest, WithoutADefaultDeadlineWaitingCallsHaveNoneEither) {
  FakeKernelHooks hooks;
  hooks.sync_store = [](const v1::SyncStoreRequest&, v1::SyncStoreResponse*) {
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  ClientOptions options = Options();
  options.default_deadline = std::chrono::milliseconds(0);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->SyncStore("s", "", std::chrono::seconds(1)).ok());
  EXPECT_EQ(kernel_->last_call_budget(), std::chrono::milliseconds::max());
}

TEST_F(ClientTest, JoinMeshSendsTokenNameAndTimeoutAndPassesRefusalsOn) {
  Latest<v1::JoinMeshRequest> seen;
  FakeKernelHooks hooks;
  hooks.join_mesh = [&](const v1::JoinMeshRequest& request, v1::JoinMeshResponse* response) {
    seen.Set(request);
    if (request.token() == "used") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "invite already used");
    }
    response->set_mesh_id("mesh-1");
    response->set_inviter_name("desk");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();

  auto joined = (*client)->JoinMesh("tok", "laptop", std::chrono::seconds(45));
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->mesh_id(), "mesh-1");
  EXPECT_EQ(joined->inviter_name(), "desk");
  EXPECT_EQ(seen.Get().token(), "tok");
  EXPECT_EQ(seen.Get().name(), "laptop");
  EXPECT_EQ(seen.Get().timeout_ms(), 45'000u);

  auto refused = (*client)->JoinMesh("used");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(), "invite already used");
  EXPECT_EQ(seen.Get().timeout_ms(), 0u);
}

TEST_F(ClientTest, InvitePeerSendsMeshAndTtlAndReturnsTheToken) {
  Latest<v1::InvitePeerRequest> seen;
  FakeKernelHooks hooks;
  hooks.invite_peer = [&](const v1::InvitePeerRequest& request,
                          v1::InvitePeerResponse* response) {
    seen.Set(request);
    response->set_token("invite-secret");
    response->add_addresses("192.0.2.1:7470");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  auto invite = (*client)->InvitePeer("home", 3600);
  ASSERT_TRUE(invite.ok()) << invite.status();
  EXPECT_EQ(invite->token(), "invite-secret");
  EXPECT_EQ(invite->addresses(0), "192.0.2.1:7470");
  EXPECT_EQ(seen.Get().mesh(), "home");
  EXPECT_EQ(seen.Get().ttl_seconds(), 3600u);

  ASSERT_TRUE((*client)->InvitePeer().ok());
  EXPECT_EQ(seen.Get().mesh(), "");
  EXPECT_EQ(seen.Get().ttl_seconds(), 0u);
}

TEST_F(ClientTest, ListRevokeAndRenamePeersCarryNodeNameAndMesh) {
  Latest<v1::ListPeersRequest> list_seen;
  Latest<v1::PeerRef> revoke_seen;
  Latest<v1::RenamePeerRequest> rename_seen;
  FakeKernelHooks hooks;
  hooks.list_peers = [&](const v1::ListPeersRequest& request, v1::ListPeersResponse* response) {
    list_seen.Set(request);
    response->add_peers()->set_node_id("n1");
    response->add_peers()->set_node_id("n2");
    return grpc::Status::OK;
  };
  hooks.revoke_peer = [&](const v1::PeerRef& request, v1::ListPeersResponse* response) {
    revoke_seen.Set(request);
    if (request.node() == "nobody") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no peer matches nobody");
    }
    auto* peer = response->add_peers();
    peer->set_node_id(request.node());
    peer->set_status("revoked");
    return grpc::Status::OK;
  };
  hooks.rename_peer = [&](const v1::RenamePeerRequest& request,
                          v1::ListPeersResponse* response) {
    rename_seen.Set(request);
    auto* peer = response->add_peers();
    peer->set_node_id(request.node());
    peer->set_name(request.name());
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  auto client = Client::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();

  auto peers = (*client)->ListPeers("home");
  ASSERT_TRUE(peers.ok()) << peers.status();
  EXPECT_EQ(peers->peers_size(), 2);
  EXPECT_EQ(list_seen.Get().mesh(), "home");

  auto revoked = (*client)->RevokePeer("1a2b3c4d", "home");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->peers(0).status(), "revoked");
  EXPECT_EQ(revoke_seen.Get().node(), "1a2b3c4d");
  EXPECT_EQ(revoke_seen.Get().mesh(), "home");
  auto unknown = (*client)->RevokePeer("nobody");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(revoke_seen.Get().mesh(), "");

  auto renamed = (*client)->RenamePeer("1a2b3c4d", "laptop");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->peers(0).name(), "laptop");
  EXPECT_EQ(rename_seen.Get().node(), "1a2b3c4d");
  EXPECT_EQ(rename_seen.Get().name(), "laptop");
  EXPECT_EQ(rename_seen.Get().mesh(), "");
}

}  // namespace
}  // namespace lattice::client
