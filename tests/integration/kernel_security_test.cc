// Credentials, token scopes, and hostile input through the real socket.
#include <gtest/gtest.h>
#include <dirent.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "dag/intention.h"
#include "harness/kernel_process.h"
#include "lattice/common/files.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"

namespace lattice::testing {
namespace {

class KernelSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok());
    admin_ = *std::move(admin);
    ASSERT_TRUE(admin_->CreateStore("s1", "kv").ok());
    ASSERT_TRUE(admin_->CreateStore("s2", "kv").ok());
  }

  std::string Token(std::vector<std::string> rights, std::vector<std::string> prefixes = {},
                    uint64_t ttl = 0, const std::string& store = "s1") {
    v1::CreateTokenRequest request;
    request.set_name("t");
    request.add_stores(store);
    for (auto& r : rights) request.add_rights(r);
    for (auto& p : prefixes) request.add_prefixes(p);
    request.set_ttl_seconds(ttl);
    auto created = admin_->CreateToken(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->token() : "";
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
};

TEST_F(KernelSecurity, WrongOrMissingCredentialsAreUnauthenticated) {
  auto bogus = kernel_.Connect("lt1.0123456789abcdef.00");
  EXPECT_EQ(bogus.status().code(), absl::StatusCode::kUnauthenticated);
  CommandResult ctl = kernel_.Ctl({"--token", "nonsense", "kv", "get", "s1", "k"});
  EXPECT_NE(ctl.exit_code, 0);
  EXPECT_NE(ctl.err.find("nauthenticated"), std::string::npos) << ctl.err;
}

TEST_F(KernelSecurity, CtlTakesItsTokenFromAFileKeptOutOfTheProcessList) {
  ASSERT_TRUE(admin_->Put("s1", "k", "v").ok());
  std::string token_file = dir_.path() + "/reader.token";
  std::ofstream(token_file) << Token({"read"}) << "\n";
  CommandResult got = kernel_.Ctl({"--token-file", token_file, "kv", "get", "s1", "k"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  // The token, not the admin cookie, was used: it may not write.
  CommandResult put = kernel_.Ctl({"--token-file", token_file, "kv", "put", "s1", "k", "w"});
  EXPECT_NE(put.exit_code, 0);
  EXPECT_NE(put.err.find("ermission"), std::string::npos) << put.err;
  // A FIFO given as the file is refused at once instead of waiting for a writer.
  std::string fifo = dir_.path() + "/fifo.token";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CommandResult blocked = kernel_.Ctl({"--token-file", fifo, "kv", "get", "s1", "k"});
  EXPECT_NE(blocked.exit_code, 0);
  EXPECT_NE(blocked.err.find("not a regular file"), std::string::npos) << blocked.err;
  CommandResult help = kernel_.Ctl({"--help"});
  EXPECT_NE(help.out.find("--token-file"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("process list"), std::string::npos) << help.out;
}

TEST_F(KernelSecurity, PrefixScopedTokenIsDeniedOutsideItsPrefix) {
  std::string token = Token({"read", "write", "watch"}, {"/apps/irc/"});
  auto scoped = kernel_.Connect(token);
  ASSERT_TRUE(scoped.ok()) << scoped.status();
  EXPECT_TRUE((*scoped)->Put("s1", "/apps/irc/nick", "x").ok());
  EXPECT_EQ((*scoped)->Put("s1", "/passwords/root", "x").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*scoped)->Get("s1", "/passwords/root").status().code(), absl::StatusCode::kPermissionDenied);
  std::vector<v1::BatchOp> ops(2);
  ops[0].set_key("/apps/irc/a");
  ops[1].set_key("/elsewhere");
  EXPECT_EQ((*scoped)->Batch("s1", ops).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*scoped)->Scan("s1", "", [](const v1::ScanEntry&) { return true; }).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*scoped)->Put("s2", "/apps/irc/nick", "x").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*scoped)->NodeStatus().status().code(), absl::StatusCode::kPermissionDenied);
  auto readonly = kernel_.Connect(Token({"read"}));
  ASSERT_TRUE(readonly.ok());
  EXPECT_EQ((*readonly)->Put("s1", "k", "v").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*readonly)->Get("s1", "k").ok());
}

TEST_F(KernelSecurity, RevokedAndExpiredTokensAreRefused) {
  std::string token = Token({"read"});
  auto client = kernel_.Connect(token);
  ASSERT_TRUE(client.ok());
  auto tokens = admin_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_TRUE(admin_->RevokeToken(tokens->tokens(0).id()).ok());
  EXPECT_EQ((*client)->Get("s1", "k").status().code(), absl::StatusCode::kUnauthenticated);

  auto short_lived = kernel_.Connect(Token({"read"}, {}, 1));
  ASSERT_TRUE(short_lived.ok());
  EXPECT_TRUE(WaitFor([&] {
    return (*short_lived)->Get("s1", "k").status().code() == absl::StatusCode::kUnauthenticated;
  }, std::chrono::seconds(10)));
}

TEST_F(KernelSecurity, TokenSecretAppearsNowhereOnDisk) {
  std::string token = Token({"read", "write"});
  std::string secret_hex = token.substr(token.rfind('.') + 1);
  std::string secret_raw = *FromHex(secret_hex);
  ASSERT_TRUE(kernel_.Stop() == 0);  // flush everything the kernel might write
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (!entry.is_regular_file()) continue;
    auto contents = ReadFile(entry.path().string());
    if (!contents.ok()) continue;
    EXPECT_EQ(contents->find(secret_hex), std::string::npos) << entry.path();
    EXPECT_EQ(contents->find(secret_raw), std::string::npos) << entry.path();
  }
}

TEST_F(KernelSecurity, OversizedInputIsRefusedWithTheLimitNamed) {
  auto big_value = admin_->Put("s1", "k", std::string(limits::kMaxValueBytes + 1, 'v'));
  EXPECT_EQ(big_value.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(big_value.status().message()).find(std::to_string(limits::kMaxValueBytes)), std::string::npos);
  auto big_key = admin_->Put("s1", std::string(limits::kMaxKeyBytes + 1, 'k'), "v");
  EXPECT_EQ(big_key.status().code(), absl::StatusCode::kResourceExhausted);
  std::vector<v1::BatchOp> ops(limits::kMaxBatchOps + 1);
  for (size_t i = 0; i < ops.size(); ++i) ops[i].set_key("k" + std::to_string(i));
  auto big_batch = admin_->Batch("s1", ops);
  EXPECT_EQ(big_batch.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(big_batch.status().message()).find("1024"), std::string::npos);
  auto huge = admin_->Put("s1", "k", std::string(limits::kMaxRpcMessageBytes + 1, 'v'));
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(admin_->Put("s1", "k", "still fine").ok());
}

// Intentions from a second identity, handed to the kernel's ingest path over the socket.
class KernelIngest : public KernelSecurity {
 protected:
  void SetUp() override {
    KernelSecurity::SetUp();
    auto info = admin_->OpenStore("s1");
    ASSERT_TRUE(info.ok());
    store_id_ = *ParseStoreId(info->id());
    ASSERT_TRUE(admin_->Put("root", "/nodes/" + ToHex(other_.public_key) + "/status", "active").ok());
  }

  v1::SignedIntention Build(uint64_t seq, const std::string& prev, const std::string& payload,
                            const std::string& op_type = "kv.v1") {
    v1::Intention body;
    body.set_store_id(store_id_);
    body.set_author(other_.public_key);
    body.set_seq(seq);
    body.set_prev(prev);
    body.mutable_hlc()->set_wall_ms(1'700'000'000'000 + seq);
    body.set_op_type(op_type);
    body.set_payload(payload);
    return kernel::SignIntention(other_, body).signed_intention;
  }

  static std::string Put(const std::string& key, const std::string& value) {
    v1::KvPayload payload;
    payload.add_ops()->set_key(key);
    payload.mutable_ops(0)->set_value(value);
    return payload.SerializeAsString();
  }

  std::string Result(const v1::SignedIntention& intention) {
    auto response = admin_->Ingest("s1", {intention});
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->outcomes(0).result() : "";
  }

  KeyPair other_ = GenerateKeyPair();
  std::string store_id_;
};

TEST_F(KernelIngest, ForgedSignatureAndBrokenChainApplyNothing) {
  v1::SignedIntention forged = Build(1, "", Put("k", "forged"));
  forged.mutable_signature()->at(0) ^= 1;
  EXPECT_EQ(Result(forged), "rejected");
  v1::SignedIntention first = Build(1, "", Put("k", "one"));
  EXPECT_EQ(Result(first), "applied");
  // seq 3 naming seq 1 as its prev: the chain is broken.
  EXPECT_EQ(Result(Build(3, Blake2b256(first.body()), Put("k", "skip"))), "rejected");
  auto got = admin_->Get("s1", "k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value(), "one");
  auto garbage = admin_->Ingest("s1", {[] { v1::SignedIntention s; s.set_body("\xff\xff"); return s; }()});
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->outcomes(0).result(), "rejected");
}

TEST_F(KernelIngest, EquivocationIsReportedAndPoisonPayloadIsANoOp) {
  v1::SignedIntention left = Build(1, "", Put("k", "left"));
  v1::SignedIntention right = Build(1, "", Put("k", "right"));
  EXPECT_EQ(Result(left), "applied");
  EXPECT_EQ(Result(right), "applied");
  auto forks = admin_->Forks("s1");
  ASSERT_TRUE(forks.ok());
  ASSERT_EQ(forks->authors_size(), 1);
  EXPECT_EQ(forks->authors(0), ToHex(other_.public_key));
  auto status = admin_->NodeStatus();
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->forked_authors_size(), 1);
  auto inspect = admin_->Inspect("s1", "k");
  ASSERT_TRUE(inspect.ok());
  EXPECT_EQ(inspect->heads_size(), 2);

  v1::SignedIntention poison = Build(2, Blake2b256(left.body()), "\x08\xff garbage");
  EXPECT_EQ(Result(poison), "applied");
  EXPECT_EQ(Result(Build(3, Blake2b256(poison.body()), Put("after", "ok"))), "applied");
  EXPECT_TRUE(admin_->Put("s1", "mine", "ok").ok());
  auto after = admin_->Get("s1", "after");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->value(), "ok");
  auto verify = admin_->VerifyStore("s1");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok());
  EXPECT_EQ(verify->noops(), 1u);
}

TEST_F(KernelIngest, NonMemberIsRefused) {
  KeyPair stranger = GenerateKeyPair();
  std::swap(stranger, other_);
  EXPECT_EQ(Result(Build(1, "", Put("k", "x"))), "rejected");
}

}  // namespace
}  // namespace lattice::testing
