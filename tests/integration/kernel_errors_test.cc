// What a newcomer is told when a request is wrong, through the real socket and lattice-ctl:
// unparsable requests, oversized echoed input, overflowing TTLs, negative limits, JSON
// errors, and which tokens `token list` shows.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/kernel_process.h"
#include "lattice/common/files.h"
#include "lattice/common/paths.h"

namespace lattice::testing {
namespace {

class KernelErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    ASSERT_TRUE(admin_->CreateStore("s1", "kv").ok());
  }

  // Sends `bytes` as the request of `method` and returns the final status.
  grpc::Status RawCall(const std::string& method, const std::string& bytes, bool streaming) {
    auto cookie = ReadFile(CookiePathForSocket(kernel_.socket()));
    EXPECT_TRUE(cookie.ok());
    std::string secret = cookie.ok() ? *cookie : "";
    while (!secret.empty() && secret.back() == '\n') secret.pop_back();
    auto channel = grpc::CreateChannel("unix:" + kernel_.socket(), grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + secret);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice slice(bytes.data(), bytes.size());
    grpc::ByteBuffer request(&slice, 1);
    if (!streaming) {
      grpc::ByteBuffer response;
      std::promise<grpc::Status> done;
      stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                     [&](grpc::Status status) { done.set_value(status); });
      return done.get_future().get();
    }
    grpc::CompletionQueue cq;
    auto call = stub.PrepareCall(&context, method, &cq);
    void* tag = nullptr;
    bool ok = false;
    call->StartCall(reinterpret_cast<void*>(1));
    cq.Next(&tag, &ok);
    call->Write(request, reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
    call->WritesDone(reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(4));
    cq.Next(&tag, &ok);
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    return status;
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
};

TEST_F(KernelErrors, UnparsableRequestsAreInvalidArgumentNamingTheProblem) {
  // Field 1 (store, a string) holding bytes that are not UTF-8: a callback method.
  grpc::Status put = RawCall("/lattice.v1.Kv/Put", std::string("\x0a\x02\xff\xfe", 4), false);
  EXPECT_EQ(put.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << put.error_message();
  EXPECT_NE(put.error_message().find("lattice.v1.PutRequest"), std::string::npos) << put.error_message();
  EXPECT_NE(put.error_message().find("store"), std::string::npos) << put.error_message();
  EXPECT_NE(put.error_message().find("UTF-8"), std::string::npos) << put.error_message();

  // A length that runs past the end: a synchronous method.
  grpc::Status status = RawCall("/lattice.v1.Admin/ListStores", std::string("\x0a\x05x", 3), false);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("lattice.v1.ListStoresRequest"), std::string::npos)
      << status.error_message();

  // And a stream.
  grpc::Status scan = RawCall("/lattice.v1.Kv/Scan", std::string("\x0a\x05x", 3), true);
  EXPECT_EQ(scan.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << scan.error_message();
  EXPECT_NE(scan.error_message().find("lattice.v1.ScanRequest"), std::string::npos)
      << scan.error_message();

  EXPECT_TRUE(admin_->Put("s1", "k", "still serving").ok());
}

TEST_F(KernelErrors, EchoedInputIsCutToAShortQuote) {
  std::string huge(10'000, 'x');
  auto missing = admin_->Get(huge, "k");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  std::string message(missing.status().message());
  EXPECT_LT(message.size(), 300u) << message;
  EXPECT_NE(message.find("10000 bytes"), std::string::npos) << message;

  v1::CreateTokenRequest request;
  request.set_name("narrow");
  request.add_stores("s1");
  request.add_rights("read");
  request.add_prefixes("/a/");
  auto created = admin_->CreateToken(request);
  ASSERT_TRUE(created.ok()) << created.status();
  auto scoped = kernel_.Connect(created->token());
  ASSERT_TRUE(scoped.ok());
  auto outside = (*scoped)->Get("s1", std::string(4000, 'k'));
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kPermissionDenied) << outside.status();
  EXPECT_LT(outside.status().message().size(), 300u);
  auto no_store = (*scoped)->Get(huge, "/a/k");
  EXPECT_EQ(no_store.status().code(), absl::StatusCode::kPermissionDenied) << no_store.status();
  EXPECT_LT(no_store.status().message().size(), 300u);
}

TEST_F(KernelErrors, OverflowingTtlIsRefused) {
  v1::CreateTokenRequest request;
  request.set_name("forever");
  request.add_stores("s1");
  request.add_rights("read");
  // Milliseconds of this overflow 64 bits: an expiry in 1970 or a token that never expires.
  request.set_ttl_seconds(std::numeric_limits<uint64_t>::max() / 1000 + 1);
  auto created = admin_->CreateToken(request);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument) << created.status();
  CommandResult ctl = kernel_.Ctl({"token", "create", "t", "--store", "s1", "--rights", "read",
                                   "--ttl", "18446744073709551s"});
  EXPECT_EQ(ctl.exit_code, 2) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("--ttl"), std::string::npos) << ctl.err;
}

TEST_F(KernelErrors, NegativeLimitsAreRefused) {
  ASSERT_TRUE(admin_->Put("s1", "a", "1").ok());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"kv", "scan", "s1", "--limit", "-1"},
           {"kv", "watch", "s1", "--count", "-1"},
           {"kv", "watch", "s1", "--from", "-5", "--count", "1"},
           {"chat", "history", "s1", "#c", "--limit", "-2"}}) {
    CommandResult r = kernel_.Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("negative"), std::string::npos) << r.err;
  }
}

TEST_F(KernelErrors, JsonErrorsAreJson) {
  CommandResult missing = kernel_.Ctl({"--json", "kv", "get", "no-such-store", "k"});
  EXPECT_EQ(missing.exit_code, 1);
  auto error = nlohmann::json::parse(missing.err, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(error.is_discarded()) << missing.err;
  EXPECT_EQ(error["error"]["code"], "NOT_FOUND") << missing.err;
  EXPECT_NE(error["error"]["message"].get<std::string>().find("no-such-store"), std::string::npos);

  CommandResult usage = kernel_.Ctl({"kv", "scan", "s1", "--limit", "many", "--json"});
  EXPECT_EQ(usage.exit_code, 2);
  auto usage_error = nlohmann::json::parse(usage.err, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(usage_error.is_discarded()) << usage.err;
  EXPECT_EQ(usage_error["error"]["code"], "INVALID_ARGUMENT") << usage.err;
}

TEST_F(KernelErrors, TokenListShowsAllKeysAndHidesEndedTokensUnlessAll) {
  auto create = [&](const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--json", "token", "create", name, "--store", "s1", "--rights", "read"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = kernel_.Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    return json.is_discarded() ? std::string() : json["id"].get<std::string>();
  };
  std::string everything = create("everything", {});
  std::string revoked = create("revoked", {});
  std::string expiring = create("expiring", {"--ttl", "1s"});
  ASSERT_EQ(kernel_.Ctl({"token", "revoke", revoked}).exit_code, 0);
  auto expired_token_refused = [&] {
    auto tokens = admin_->ListTokens();
    if (!tokens.ok()) return false;
    for (const auto& t : tokens->tokens()) {
      if (t.id() == expiring) {
        return t.expires_ms() <= static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count());
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitFor(expired_token_refused, std::chrono::seconds(10)));

  CommandResult listed = kernel_.Ctl({"token", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(everything), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("(all keys)"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(revoked), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(expiring), std::string::npos) << listed.out;

  CommandResult all = kernel_.Ctl({"token", "list", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find(revoked), std::string::npos) << all.out;
  EXPECT_NE(all.out.find(expiring), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("revoked"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("expired"), std::string::npos) << all.out;
}

}  // namespace
}  // namespace lattice::testing
