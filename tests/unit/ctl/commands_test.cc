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
