// The commands end to end against a fake kernel: what reaches the kernel, what is printed,
// and which exit code results.
#include "commands.h"

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "errors.h"
#include "fake_kernel.h"

namespace lattice::ctl {
namespace {

using lattice::testing::FakeKernel;
using lattice::testing::FakeKernelHooks;

std::string ReadAll(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string data;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) data.append(buffer, n);
  return data;
}

struct Outcome {
  absl::Status status;
  std::string out;
  std::string err;
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("LATTICE_TOKEN");
    dir_ = lattice::testing::MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    socket_ = dir_ + "/kernel.sock";
  }
  void TearDown() override {
    kernel_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartKernel(FakeKernelHooks hooks) {
    kernel_ = FakeKernel::Start(socket_, "cookie", std::move(hooks));
    ASSERT_NE(kernel_, nullptr);
  }

  Outcome Run(Arguments args) {
    args.global.socket = socket_;
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    Printer printer(out, err, args.global.json);
    Session session(args, printer);
    Outcome outcome;
    outcome.status = RunCommand(session);
    outcome.out = ReadAll(out);
    outcome.err = ReadAll(err);
    std::fclose(out);
    std::fclose(err);
    return outcome;
  }

  std::string dir_;
  std::string socket_;
  std::unique_ptr<FakeKernel> kernel_;
};

FakeKernelHooks KvWithOneKey() {
  FakeKernelHooks hooks;
  hooks.get = [](const v1::GetRequest& request, v1::GetResponse* response) {
    if (request.store() == "notes" && request.key() == "greeting") {
      response->set_found(true);
      response->set_value("hello");
      response->set_author("a1");
    }
    return grpc::Status::OK;
  };
  return hooks;
}

TEST_F(CommandsTest, KvGetPrintsTheValueAndANewline) {
  StartKernel(KvWithOneKey());
  Arguments args;
  args.command = Command::kKvGet;
  args.store = "notes";
  args.key = "greeting";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "hello\n");

  args.global.json = true;
  Outcome json = Run(args);
  ASSERT_TRUE(json.status.ok()) << json.status;
  nlohmann::json document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document["key"], "greeting");
  EXPECT_EQ(document["value"], "hello");
  EXPECT_EQ(document["author"], "a1");
}

TEST_F(CommandsTest, KvGetOfAnAbsentKeyIsNotFoundAndExitsOne) {
  StartKernel(KvWithOneKey());
  Arguments args;
  args.command = Command::kKvGet;
  args.store = "notes";
  args.key = "missing";
  Outcome outcome = Run(args);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(DescribeStatus(outcome.status), "not found: missing");
  EXPECT_EQ(ExitCodeFor(outcome.status), 1);
}

TEST_F(CommandsTest, KernelErrorsKeepTheirCodeAndMessage) {
  FakeKernelHooks hooks;
  hooks.put = [](const v1::PutRequest&, v1::WriteResult*) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "token may not write store notes");
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kKvPut;
  args.store = "notes";
  args.key = "k";
  args.value = "v";
  Outcome outcome = Run(args);
  EXPECT_EQ(DescribeStatus(outcome.status), "permission denied: token may not write store notes");
  EXPECT_EQ(ExitCodeFor(outcome.status), 1);
}

TEST_F(CommandsTest, BatchSendsEveryOpInOneRequest) {
  std::mutex mu;
  v1::BatchRequest seen;
  FakeKernelHooks hooks;
  hooks.batch = [&](const v1::BatchRequest& request, v1::WriteResult* result) {
    std::lock_guard<std::mutex> lock(mu);
    seen = request;
    result->set_cursor(4);
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kKvBatch;
  args.store = "notes";
  args.ops = {"put:a=1", "del:b"};
  args.global.json = true;
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["cursor"], 4);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.store(), "notes");
  ASSERT_EQ(seen.ops_size(), 2);
  EXPECT_EQ(seen.ops(0).key(), "a");
  EXPECT_TRUE(seen.ops(1).delete_());
}

TEST_F(CommandsTest, NoSyncSendsWritesAcknowledgedOnceApplied) {
  std::mutex mu;
  std::vector<v1::Durability> seen;
  FakeKernelHooks hooks;
  hooks.batch = [&](const v1::BatchRequest& request, v1::WriteResult*) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(request.durability());
    return grpc::Status::OK;
  };
  hooks.put = [&](const v1::PutRequest& request, v1::WriteResult*) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(request.durability());
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kKvBatch;
  args.store = "notes";
  args.ops = {"put:a=1"};
  args.no_sync = true;
  ASSERT_TRUE(Run(args).status.ok());
  args.command = Command::kKvPut;
  args.key = "k";
  args.value = "v";
  ASSERT_TRUE(Run(args).status.ok());
  args.no_sync = false;
  ASSERT_TRUE(Run(args).status.ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<v1::Durability>{v1::DURABILITY_APPLIED, v1::DURABILITY_APPLIED,
                                                v1::DURABILITY_SYNCED}));
}

TEST_F(CommandsTest, UsageErrorsComeBeforeAnyConnection) {
  // No kernel at all: a bad op must still be reported as a usage error.
  Arguments args;
  args.command = Command::kKvBatch;
  args.store = "notes";
  args.ops = {"put:novalue"};
  Outcome outcome = Run(args);
  EXPECT_EQ(ExitCodeFor(outcome.status), 2);
}

TEST_F(CommandsTest, WatchPrintsOneLinePerEventAndStopsAfterCount) {
  std::mutex mu;
  v1::KvWatchRequest seen;
  FakeKernelHooks hooks;
  hooks.kv_watch = [&](grpc::ServerContext* context, const v1::KvWatchRequest& request,
                       grpc::ServerWriter<v1::KvWatchResponse>* writer) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = request;
    }
    v1::KvWatchResponse response;
    auto* put = response.add_events();
    put->set_cursor(7);
    put->set_key("a");
    put->set_value("1");
    auto* del = response.add_events();
    del->set_cursor(8);
    del->set_key("b");
    del->set_deleted(true);
    auto* extra = response.add_events();
    extra->set_cursor(9);
    extra->set_key("c");
    response.set_cursor(9);
    writer->Write(response);
    lattice::testing::WaitUntilCancelled(context);
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kKvWatch;
  args.store = "notes";
  args.prefix = "";
  args.from = 6;
  args.count = 2;
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "7 put a 1\n8 del b\n");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.from_cursor(), 6u);
  EXPECT_FALSE(seen.from_now());
}

TEST_F(CommandsTest, TokenCreateShowsIdAndSecretAndWarnsOnStderr) {
  std::mutex mu;
  v1::CreateTokenRequest seen;
  FakeKernelHooks hooks;
  hooks.create_token = [&](const v1::CreateTokenRequest& request,
                           v1::CreateTokenResponse* response) {
    std::lock_guard<std::mutex> lock(mu);
    seen = request;
    response->mutable_info()->set_id("tok-1");
    response->set_token("s3cret");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kTokenCreate;
  args.name = "irc";
  args.stores = {"chat"};
  args.rights = "read,watch";
  args.ttl = "1d";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "id: tok-1\ntoken: s3cret\n");
  EXPECT_NE(outcome.err.find("shown only this once"), std::string::npos);
  EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.ttl_seconds(), 86400u);
  ASSERT_EQ(seen.rights_size(), 2);
}

TEST_F(CommandsTest, VerifyThatFailsPrintsTheReportAndExitsOne) {
  FakeKernelHooks hooks;
  hooks.verify = [](const v1::StoreRef&, v1::VerifyResponse* response) {
    response->set_ok(false);
    response->add_problems("replayed state differs");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kDebugVerify;
  args.store = "notes";
  Outcome outcome = Run(args);
  EXPECT_EQ(ExitCodeFor(outcome.status), 1);
  EXPECT_NE(outcome.out.find("replayed state differs"), std::string::npos) << outcome.out;
  EXPECT_NE(DescribeStatus(outcome.status).find("store notes failed verification"),
            std::string::npos);
}

TEST_F(CommandsTest, IngestSendsTheFileAndPrintsEachOutcome) {
  std::string file = dir_ + "/in.hex";
  std::FILE* handle = std::fopen(file.c_str(), "w");
  std::fputs("# one intention with an empty body\n0a00\n", handle);
  std::fclose(handle);
  FakeKernelHooks hooks;
  hooks.ingest = [](const v1::IngestRequest& request, v1::IngestResponse* response) {
    for (int i = 0; i < request.intentions_size(); ++i) {
      auto* outcome = response->add_outcomes();
      outcome->set_hash("h" + std::to_string(i));
      outcome->set_result("rejected");
      outcome->set_reason("bad signature");
    }
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kDebugIngest;
  args.store = "notes";
  args.file = file;
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "h0 rejected (bad signature)\n");
}

TEST_F(CommandsTest, MissingCookieIsExplained) {
  Arguments args;
  args.command = Command::kStatus;
  StartKernel(FakeKernelHooks());
  std::filesystem::remove(dir_ + "/admin.cookie");
  Outcome outcome = Run(args);
  EXPECT_EQ(ExitCodeFor(outcome.status), 1);
  EXPECT_NE(DescribeStatus(outcome.status).find("cannot read admin cookie at " + dir_),
            std::string::npos)
      << outcome.status;
}

TEST_F(CommandsTest, TokenFromTheEnvironmentIsUsed) {
  FakeKernelHooks hooks = KvWithOneKey();
  hooks.tokens = {"env-token"};
  StartKernel(hooks);
  std::filesystem::remove(dir_ + "/admin.cookie");
  ::setenv("LATTICE_TOKEN", "env-token", 1);
  Arguments args;
  args.command = Command::kKvGet;
  args.store = "notes";
  args.key = "greeting";
  Outcome outcome = Run(args);
  ::unsetenv("LATTICE_TOKEN");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(kernel_->authorizations().back(), "Bearer env-token");
}

using lattice::testing::Latest;

TEST_F(CommandsTest, PeerInvitePrintsOnlyTheTokenOnStdoutAndDetailsOnStderr) {
  Latest<v1::InvitePeerRequest> seen;
  FakeKernelHooks hooks;
  hooks.invite_peer = [&](const v1::InvitePeerRequest& request,
                          v1::InvitePeerResponse* response) {
    seen.Set(request);
    response->set_token("lat1secret");
    response->set_invite_id("inv-1");
    response->set_mesh_id("mesh-1");
    response->add_addresses("192.0.2.1:7470");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kPeerInvite;
  args.mesh = "home";
  args.ttl = "1h";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "lat1secret\n");
  EXPECT_NE(outcome.err.find("invite inv-1 into mesh mesh-1"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("the joiner will dial 192.0.2.1:7470"), std::string::npos);
  EXPECT_EQ(outcome.err.find("lat1secret"), std::string::npos);
  EXPECT_EQ(seen.Get().mesh(), "home");
  EXPECT_EQ(seen.Get().ttl_seconds(), 3600u);

  args.global.json = true;
  Outcome json = Run(args);
  ASSERT_TRUE(json.status.ok()) << json.status;
  EXPECT_EQ(nlohmann::json::parse(json.out)["token"], "lat1secret");
  EXPECT_EQ(json.err, "");
}

TEST_F(CommandsTest, PeerInviteWithABadTtlFailsBeforeConnecting) {
  Arguments args;  // no kernel at all
  args.command = Command::kPeerInvite;
  args.ttl = "0";
  EXPECT_EQ(ExitCodeFor(Run(args).status), 2);
}

TEST_F(CommandsTest, PeerJoinSendsTheTokenAndSaysWhichMeshItJoined) {
  Latest<v1::JoinMeshRequest> seen;
  FakeKernelHooks hooks;
  hooks.join_mesh = [&](const v1::JoinMeshRequest& request, v1::JoinMeshResponse* response) {
    seen.Set(request);
    if (request.token() != "lat1secret") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "invite expired");
    }
    response->set_mesh_id("mesh-1");
    response->set_inviter_id(std::string(64, 'a'));
    response->set_inviter_name("desk");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kPeerJoin;
  args.invite = "lat1secret\n";
  args.name = "laptop";
  args.timeout = "90s";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "joined mesh mesh-1, invited by desk (aaaaaaaaaaaa)\n");
  EXPECT_EQ(seen.Get().token(), "lat1secret");
  EXPECT_EQ(seen.Get().name(), "laptop");
  EXPECT_EQ(seen.Get().timeout_ms(), 90'000u);

  args.invite = "lat1old";
  Outcome refused = Run(args);
  EXPECT_EQ(ExitCodeFor(refused.status), 1);
  EXPECT_EQ(DescribeStatus(refused.status), "permission denied: invite expired");
  EXPECT_EQ(refused.out, "");
}

FakeKernelHooks PeersOfOneMesh(Latest<v1::ListPeersRequest>* seen) {
  FakeKernelHooks hooks;
  hooks.list_peers = [seen](const v1::ListPeersRequest& request,
                            v1::ListPeersResponse* response) {
    seen->Set(request);
    auto* self = response->add_peers();
    self->set_node_id(std::string(64, 'a'));
    self->set_name("desk");
    self->set_status("active");
    self->set_self(true);
    auto* laptop = response->add_peers();
    laptop->set_node_id(std::string(64, 'b'));
    laptop->set_name("laptop");
    laptop->set_status("active");
    laptop->set_connected(true);
    return grpc::Status::OK;
  };
  return hooks;
}

TEST_F(CommandsTest, PeerListPrintsATableOrJson) {
  Latest<v1::ListPeersRequest> seen;
  StartKernel(PeersOfOneMesh(&seen));
  Arguments args;
  args.command = Command::kPeerList;
  args.mesh = "home";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(seen.Get().mesh(), "home");
  EXPECT_EQ(outcome.out.rfind("NODE", 0), 0u) << outcome.out;
  EXPECT_EQ(std::count(outcome.out.begin(), outcome.out.end(), '\n'), 3) << outcome.out;
  EXPECT_NE(outcome.out.find("aaaaaaaaaaaa  desk"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("bbbbbbbbbbbb  laptop"), std::string::npos) << outcome.out;

  args.global.json = true;
  Outcome json = Run(args);
  ASSERT_TRUE(json.status.ok()) << json.status;
  nlohmann::json document = nlohmann::json::parse(json.out);
  ASSERT_EQ(document["peers"].size(), 2u);
  EXPECT_EQ(document["peers"][0]["self"], true);
  EXPECT_EQ(document["peers"][1]["node_id"], std::string(64, 'b'));
}

TEST_F(CommandsTest, PeerRevokeSaysWhatItRevokedAndFailsWhenNothingMatched) {
  Latest<v1::PeerRef> seen;
  FakeKernelHooks hooks;
  hooks.revoke_peer = [&](const v1::PeerRef& request, v1::ListPeersResponse* response) {
    seen.Set(request);
    if (request.node() == "laptop") {
      auto* peer = response->add_peers();
      peer->set_node_id(std::string(64, 'b'));
      peer->set_name("laptop");
      peer->set_status("revoked");
      peer->set_mesh_id("3f2a1b4c-0000-4000-8000-000000000001");
    }
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kPeerRevoke;
  args.node = "laptop";
  args.mesh = "home";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "revoked bbbbbbbbbbbb (laptop) in mesh 3f2a1b4c\n");
  EXPECT_EQ(seen.Get().node(), "laptop");
  EXPECT_EQ(seen.Get().mesh(), "home");

  args.node = "phone";
  Outcome unmatched = Run(args);
  EXPECT_EQ(ExitCodeFor(unmatched.status), 1);
  EXPECT_EQ(DescribeStatus(unmatched.status), "not found: no peer matches phone");

  args.node = "";
  EXPECT_EQ(ExitCodeFor(Run(args).status), 2);
}

TEST_F(CommandsTest, PeerRenameSendsNodeAndNameAndPrintsJson) {
  Latest<v1::RenamePeerRequest> seen;
  FakeKernelHooks hooks;
  hooks.rename_peer = [&](const v1::RenamePeerRequest& request,
                          v1::ListPeersResponse* response) {
    seen.Set(request);
    auto* peer = response->add_peers();
    peer->set_node_id(std::string(64, 'b'));
    peer->set_name(request.name());
    peer->set_mesh_id("3f2a1b4c-0000-4000-8000-000000000001");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kPeerRename;
  args.node = "bbbbbbbb";
  args.name = "old laptop";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.out, "renamed bbbbbbbbbbbb to old laptop in mesh 3f2a1b4c\n");
  EXPECT_EQ(seen.Get().node(), "bbbbbbbb");
  EXPECT_EQ(seen.Get().name(), "old laptop");
  EXPECT_EQ(seen.Get().mesh(), "");

  args.global.json = true;
  Outcome json = Run(args);
  ASSERT_TRUE(json.status.ok()) << json.status;
  EXPECT_EQ(nlohmann::json::parse(json.out)["peers"][0]["name"], "old laptop");
}

TEST_F(CommandsTest, StoreStatusAsksAboutTheStoreAndShowsItsPeers) {
  Latest<v1::StoreRef> seen;
  FakeKernelHooks hooks;
  hooks.store_status = [&](const v1::StoreRef& request, v1::StoreStatusResponse* response) {
    seen.Set(request);
    response->mutable_store()->set_name(request.store());
    response->set_witnessed(12);
    auto* peer = response->add_peers();
    peer->set_node_id(std::string(64, 'b'));
    peer->set_last_error("handshake refused");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kStoreStatus;
  args.store = "notes";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(seen.Get().store(), "notes");
  EXPECT_EQ(outcome.out.rfind("store:       notes\n", 0), 0u) << outcome.out;
  EXPECT_NE(outcome.out.find("\nwitnessed:   12\n"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("handshake refused"), std::string::npos) << outcome.out;

  args.global.json = true;
  Outcome json = Run(args);
  ASSERT_TRUE(json.status.ok()) << json.status;
  nlohmann::json document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document["witnessed"], 12);
  EXPECT_EQ(document["peers"][0]["last_error"], "handshake refused");
}

// A sync with one result per (node id, error) of `peers`: ok when the error is empty.
FakeKernelHooks SyncWith(std::vector<std::pair<std::string, std::string>> peers,
                         Latest<v1::SyncStoreRequest>* seen) {
  FakeKernelHooks hooks;
  hooks.sync_store = [peers, seen](const v1::SyncStoreRequest& request,
                                   v1::SyncStoreResponse* response) {
    seen->Set(request);
    for (const auto& [node, error] : peers) {
      auto* result = response->add_results();
      result->set_node_id(node);
      result->set_ok(error.empty());
      result->set_error(error);
      result->set_fetched(error.empty() ? 4 : 0);
    }
    return grpc::Status::OK;
  };
  return hooks;
}

Arguments SyncArguments() {
  Arguments args;
  args.command = Command::kStoreSync;
  args.store = "notes";
  args.wait = true;
  return args;
}

TEST_F(CommandsTest, StoreSyncThatSucceedsEverywhereExitsZero) {
  Latest<v1::SyncStoreRequest> seen;
  StartKernel(SyncWith({{std::string(64, 'b'), ""}, {std::string(64, 'c'), ""}}, &seen));
  Arguments args = SyncArguments();
  args.node = "laptop";
  args.timeout = "5s";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(seen.Get().store(), "notes");
  EXPECT_EQ(seen.Get().peer(), "laptop");
  EXPECT_EQ(seen.Get().timeout_ms(), 5'000u);
  EXPECT_NE(outcome.out.find("bbbbbbbbbbbb  ok"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("cccccccccccc  ok"), std::string::npos) << outcome.out;
}

TEST_F(CommandsTest, StoreSyncFailsNamingThePeerThatFailed) {
  Latest<v1::SyncStoreRequest> seen;
  StartKernel(SyncWith({{std::string(64, 'b'), ""}, {std::string(64, 'c'), "timed out"}}, &seen));
  Arguments args = SyncArguments();
  Outcome outcome = Run(args);
  EXPECT_EQ(ExitCodeFor(outcome.status), 1);
  EXPECT_EQ(DescribeStatus(outcome.status),
            "unavailable: store notes: sync with peer cccccccccccc failed: timed out");
  // The results are printed all the same.
  EXPECT_NE(outcome.out.find("cccccccccccc  FAILED"), std::string::npos) << outcome.out;

  args.global.json = true;
  Outcome json = Run(args);
  EXPECT_EQ(ExitCodeFor(json.status), 1);
  nlohmann::json document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document["ok"], false);
  EXPECT_EQ(document["results"][1]["error"], "timed out");
}

TEST_F(CommandsTest, StoreSyncWithNoOtherNodeHasNothingToReconcile) {
  // The kernel answers without results only when no other node shares the store.
  Latest<v1::SyncStoreRequest> seen;
  StartKernel(SyncWith({}, &seen));
  Outcome outcome = Run(SyncArguments());
  EXPECT_EQ(ExitCodeFor(outcome.status), 0) << DescribeStatus(outcome.status);
  EXPECT_EQ(outcome.out, "store notes: nothing to reconcile: no other node shares it\n");
}

TEST_F(CommandsTest, StoreSyncWithoutWaitIsAUsageErrorBeforeConnecting) {
  Arguments args = SyncArguments();  // no kernel at all
  args.wait = false;
  Outcome outcome = Run(args);
  EXPECT_EQ(ExitCodeFor(outcome.status), 2);
  EXPECT_NE(DescribeStatus(outcome.status).find("--wait"), std::string::npos);
}

TEST(SyncVerdict, CountsTheOtherFailures) {
  v1::SyncStoreResponse response;
  for (char c : {'b', 'c', 'd', 'e'}) {
    auto* result = response.add_results();
    result->set_node_id(std::string(64, c));
    result->set_ok(c == 'b');
    if (c == 'c') result->set_error("connection reset");
  }
  EXPECT_EQ(DescribeStatus(SyncVerdict("notes", response)),
            "unavailable: store notes: sync with peer cccccccccccc failed: connection reset "
            "(and 2 more peers failed)");
  response.mutable_results()->RemoveLast();
  EXPECT_EQ(DescribeStatus(SyncVerdict("notes", response)),
            "unavailable: store notes: sync with peer cccccccccccc failed: connection reset "
            "(and 1 more peer failed)");
  response.mutable_results()->RemoveLast();
  response.mutable_results(1)->clear_error();
  EXPECT_EQ(DescribeStatus(SyncVerdict("notes", response)),
            "unavailable: store notes: sync with peer cccccccccccc failed");
  response.mutable_results()->RemoveLast();
  EXPECT_TRUE(SyncVerdict("notes", response).ok());
}

TEST_F(CommandsTest, DebugFloatingListsTheParkedIntentions) {
  Latest<v1::StoreRef> seen;
  FakeKernelHooks hooks;
  hooks.floating = [&](const v1::StoreRef& request, v1::FloatingResponse* response) {
    seen.Set(request);
    auto* parked = response->add_intentions();
    parked->set_hash("h1");
    parked->set_author(std::string(64, 'a'));
    parked->set_seq(2);
    parked->add_missing("d1");
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kDebugFloating;
  args.store = "notes";
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(seen.Get().store(), "notes");
  EXPECT_EQ(outcome.out, "h1 aaaaaaaaaaaa seq 2 missing d1\n");

  args.global.json = true;
  Outcome json = Run(args);
  ASSERT_TRUE(json.status.ok()) << json.status;
  EXPECT_EQ(nlohmann::json::parse(json.out)["intentions"][0]["missing"][0], "d1");
}

TEST_F(CommandsTest, StatusShowsPeersAndBootstrapProgress) {
  FakeKernelHooks hooks;
  hooks.status = [](const v1::StatusRequest&, v1::StatusResponse* response) {
    response->set_peers_connected(1);
    response->set_peers_known(2);
    auto* bootstrap = response->add_bootstraps();
    bootstrap->set_store_name("notes");
    bootstrap->set_source(std::string(64, 'b'));
    bootstrap->set_received(10);
    bootstrap->set_total(40);
    return grpc::Status::OK;
  };
  StartKernel(hooks);
  Arguments args;
  args.command = Command::kStatus;
  Outcome outcome = Run(args);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_NE(outcome.out.find("1 connected, 2 known"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("bootstrap notes from bbbbbbbbbbbb: 10/40\n"), std::string::npos)
      << outcome.out;
}

TEST(ExplainBrokenStream, SaysTheKernelWentAway) {
  EXPECT_EQ(DescribeStatus(ExplainBrokenStream(absl::UnavailableError("Socket closed"))),
            "unavailable: lost the connection to the kernel: Socket closed");
  EXPECT_EQ(ExplainBrokenStream(absl::CancelledError("Cancelled")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(ExplainBrokenStream(absl::OkStatus()).ok());
  EXPECT_EQ(ExplainBrokenStream(absl::PermissionDeniedError("no")).code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace lattice::ctl
