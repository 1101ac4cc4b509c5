// What a scoped service token may reach, through the real socket and lattice-ctl: chat
// channels by byte prefix or exact name (replies and reactions by the channel of the message
// they cite), and root stores only when that is asked for.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/kernel_process.h"

namespace lattice::testing {
namespace {

// A kernel and a client with the admin cookie.
class KernelScope : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
};

// A chat store with posts in #pub, #public and #secret, and a topic in #secret.
class KernelChatScope : public KernelScope {
 protected:
  void SetUp() override {
    KernelScope::SetUp();
    ASSERT_TRUE(admin_->CreateStore("talk", "chat").ok());
    for (const char* channel : {"#pub", "#public", "#secret"}) {
      auto posted = admin_->Post("talk", channel, std::string("hello ") + channel);
      ASSERT_TRUE(posted.ok()) << posted.status();
      first_post_[channel] = posted->hash();
    }
    ASSERT_TRUE(admin_->SetTopic("talk", "#secret", "the launch codes").ok());
  }

  std::unique_ptr<client::Client> Scoped(std::vector<std::string> rights,
                                         std::vector<std::string> prefixes,
                                         std::vector<std::string> keys = {}) {
    v1::CreateTokenRequest request;
    request.set_name("scoped");
    request.add_stores("talk");
    for (auto& right : rights) request.add_rights(right);
    for (auto& prefix : prefixes) request.add_prefixes(prefix);
    for (auto& key : keys) request.add_keys(key);
    auto created = admin_->CreateToken(request);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    auto client = kernel_.Connect(created->token());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  static std::vector<std::string> Names(const v1::ListChannelsResponse& response) {
    std::vector<std::string> names;
    for (const auto& channel : response.channels()) names.push_back(channel.name());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::map<std::string, std::string> first_post_;
};

TEST_F(KernelChatScope, ListChannelsShowsOnlyChannelsWithinTheTokensPrefixes) {
  auto scoped = Scoped({"read"}, {"#pub"});
  ASSERT_NE(scoped, nullptr);
  auto channels = scoped->ListChannels("talk");
  ASSERT_TRUE(channels.ok()) << channels.status();
  // A byte prefix: "#pub" covers "#public" too, and nothing of "#secret" shows. Channels are
  // listed by their canonical names, without the '#' IRC adds.
  EXPECT_EQ(Names(*channels), (std::vector<std::string>{"pub", "public"}));
  for (const auto& channel : channels->channels()) EXPECT_NE(channel.topic().text(), "the launch codes");

  auto all = admin_->ListChannels("talk");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"pub", "public", "secret"}));
}

TEST_F(KernelChatScope, ReplyAndReactAreCheckedAgainstTheChannelOfTheMessageTheyCite) {
  auto scoped = Scoped({"read", "write"}, {"#pub"});
  ASSERT_NE(scoped, nullptr);
  auto reply = scoped->Reply("talk", first_post_["#pub"], "a reply");
  EXPECT_TRUE(reply.ok()) << reply.status();
  auto react = scoped->React("talk", first_post_["#public"], "+1");
  EXPECT_TRUE(react.ok()) << react.status();

  auto outside_reply = scoped->Reply("talk", first_post_["#secret"], "sneaking in");
  EXPECT_EQ(outside_reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(outside_reply.status().message()).find("#secret"), std::string::npos)
      << outside_reply.status();
  auto outside_react = scoped->React("talk", first_post_["#secret"], "+1");
  EXPECT_EQ(outside_react.status().code(), absl::StatusCode::kPermissionDenied);
  auto unknown = scoped->Reply("talk", std::string(64, 'a'), "to nothing");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();

  auto history = admin_->History("talk", "#secret");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->messages_size(), 2);  // the post and the topic: nothing from the token
  auto pub = admin_->History("talk", "#pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->messages_size(), 2);
}

TEST_F(KernelChatScope, ChannelScopeFromLatticeCtlGrantsExactlyThatChannel) {
  CommandResult created = kernel_.Ctl({"--json", "token", "create", "exact", "--store", "talk",
                                       "--channel", "#pub", "--rights", "read,write,watch"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string token = nlohmann::json::parse(created.out)["token"];
  auto exact = kernel_.Connect(token);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_TRUE((*exact)->Post("talk", "#pub", "in").ok());
  EXPECT_EQ((*exact)->Post("talk", "#public", "out").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*exact)->History("talk", "#public").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*exact)->History("talk", "#pub").ok());
  auto channels = (*exact)->ListChannels("talk");
  ASSERT_TRUE(channels.ok()) << channels.status();
  EXPECT_EQ(Names(*channels), (std::vector<std::string>{"pub"}));
  // An exact key is no prefix: a watch of every channel is refused.
  v1::ChatWatchRequest watch;
  watch.set_store("talk");
  watch.set_from_now(true);
  absl::Status watched = (*exact)->WatchChat(watch, [](const v1::ChatWatchResponse&) { return false; });
  EXPECT_EQ(watched.code(), absl::StatusCode::kPermissionDenied) << watched;

  CommandResult listed = kernel_.Ctl({"token", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("#pub"), std::string::npos) << listed.out;
}

TEST_F(KernelChatScope, TokenCreateHelpExplainsBytePrefixesAndTheExactForm) {
  CommandResult help = kernel_.Ctl({"token", "create", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("#public"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--channel"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--key"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--allow-root-store"), std::string::npos) << help.out;
}

using KernelRootStoreTokens = KernelScope;

TEST_F(KernelRootStoreTokens, RootStoreIsRefusedUnlessExplicitlyAllowed) {
  CommandResult by_name = kernel_.Ctl({"token", "create", "t", "--store", "root", "--rights", "write"});
  EXPECT_EQ(by_name.exit_code, 1) << by_name.out;
  EXPECT_NE(by_name.err.find("--allow-root-store"), std::string::npos) << by_name.err;
  EXPECT_EQ(by_name.out.find("lt1."), std::string::npos) << by_name.out;

  auto status = admin_->NodeStatus();
  ASSERT_TRUE(status.ok());
  v1::CreateTokenRequest request;
  request.set_name("t");
  request.add_stores(status->node().root_store_id());
  request.add_rights("write");
  request.add_prefixes("/nodes/");
  auto by_id = admin_->CreateToken(request);
  EXPECT_EQ(by_id.status().code(), absl::StatusCode::kPermissionDenied) << by_id.status();
  auto tokens = admin_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->tokens_size(), 0);

  CommandResult allowed = kernel_.Ctl(
      {"token", "create", "t", "--store", "root", "--rights", "read", "--allow-root-store"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(allowed.out.find("lt1."), std::string::npos) << allowed.out;
}

}  // namespace
}  // namespace lattice::testing
