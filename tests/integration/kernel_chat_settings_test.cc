// Chat message tags and channel modes through a real kernel and the client library: tags go
// with a post into History and Watch, requests over the limits are INVALID_ARGUMENT, and
// SetModes / GetChannel need the rights SetTopic / GetTopic need.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "harness/kernel_process.h"
#include "lattice/common/files.h"
#include "lattice/common/paths.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::testing {
namespace {

// The limits store_protocol.proto states for PostRequest.tags and SetModesRequest.
constexpr size_t kMaxTags = 32;
constexpr size_t kMaxTagKeyBytes = 256;
constexpr size_t kMaxTagsBytes = 4096;
constexpr size_t kMaxModeChanges = 16;

// Chat.SetModes and Chat.GetChannel straight over the kernel's socket with one credential.
class ChatCalls {
 public:
  ChatCalls(const std::string& socket, std::string credential)
      : credential_(std::move(credential)),
        stub_(v1::Chat::NewStub(
            grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()))) {}

  absl::StatusCode SetModes(const v1::SetModesRequest& request) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + credential_);
    v1::WriteResult result;
    return static_cast<absl::StatusCode>(stub_->SetModes(&context, request, &result).error_code());
  }

  absl::StatusOr<v1::ChannelInfo> GetChannel(const std::string& channel) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + credential_);
    v1::GetChannelRequest request;
    request.set_store("talk");
    request.set_channel(channel);
    v1::ChannelInfo info;
    grpc::Status status = stub_->GetChannel(&context, request, &info);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
    }
    return info;
  }

 private:
  std::string credential_;
  std::unique_ptr<v1::Chat::Stub> stub_;
};

class KernelChatSettings : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    ASSERT_TRUE(admin_->CreateStore("talk", "chat").ok());
    auto cookie = ReadFile(CookiePathForSocket(kernel_.socket()));
    ASSERT_TRUE(cookie.ok()) << cookie.status();
    while (!cookie->empty() && cookie->back() == '\n') cookie->pop_back();
    admin_calls_ = std::make_unique<ChatCalls>(kernel_.socket(), *cookie);
  }

  static v1::PostRequest Tagged(std::vector<std::pair<std::string, std::string>> tags) {
    v1::PostRequest request;
    request.set_store("talk");
    request.set_channel("#general");
    request.set_text("hello");
    request.set_sender("nick");
    for (auto& [key, value] : tags) {
      v1::ChatTag* tag = request.add_tags();
      tag->set_key(key);
      tag->set_value(value);
    }
    return request;
  }

  static v1::SetModesRequest Modes(std::vector<std::tuple<std::string, bool, std::string>> list) {
    v1::SetModesRequest request;
    request.set_store("talk");
    request.set_channel("#General");
    request.set_sender("op");
    for (auto& [mode, on, arg] : list) {
      v1::ChatModeChange* change = request.add_changes();
      change->set_mode(mode);
      change->set_on(on);
      change->set_arg(arg);
    }
    return request;
  }

  std::unique_ptr<ChatCalls> WithRights(std::vector<std::string> rights) {
    v1::CreateTokenRequest request;
    request.set_name("scoped");
    request.add_stores("talk");
    for (auto& right : rights) request.add_rights(right);
    auto created = admin_->CreateToken(request);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    return std::make_unique<ChatCalls>(kernel_.socket(), created->token());
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
  std::unique_ptr<ChatCalls> admin_calls_;
};

TEST_F(KernelChatSettings, TagsGoWithThePostIntoHistoryAndWatch) {
  auto posted = admin_->Post(Tagged({{"+draft/reply", "abc"}, {"+example.com/x", "a b;c"}}));
  ASSERT_TRUE(posted.ok()) << posted.status();

  auto history = admin_->History("talk", "general");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->messages_size(), 1);
  const v1::ChatMessage& stored = history->messages(0);
  ASSERT_EQ(stored.tags_size(), 2);
  EXPECT_EQ(stored.tags(0).key(), "+draft/reply");
  EXPECT_EQ(stored.tags(0).value(), "abc");
  EXPECT_EQ(stored.tags(1).value(), "a b;c");

  v1::ChatWatchRequest watch;
  watch.set_store("talk");
  watch.set_channel("#general");
  std::vector<v1::ChatMessage> watched;
  absl::Status status = admin_->WatchChat(watch, [&](const v1::ChatWatchResponse& response) {
    for (const auto& message : response.messages()) watched.push_back(message);
    return watched.empty();
  });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(watched.size(), 1u);
  EXPECT_EQ(watched[0].hash(), posted->hash());
  ASSERT_EQ(watched[0].tags_size(), 2);
  EXPECT_EQ(watched[0].tags(1).key(), "+example.com/x");
}

TEST_F(KernelChatSettings, TagsOverTheLimitsAreInvalidArguments) {
  std::vector<std::pair<std::string, std::string>> many;
  for (size_t i = 0; i <= kMaxTags; ++i) many.emplace_back("+t" + std::to_string(i), "");
  const std::vector<std::vector<std::pair<std::string, std::string>>> refused{
      many,
      {{"", "empty key"}},
      {{std::string(kMaxTagKeyBytes + 1, 'k'), ""}},
      {{"+with space", ""}},
      {{"+with\nnewline", ""}},
      {{"+a", std::string(kMaxTagsBytes, 'v')}},
  };
  for (const auto& tags : refused) {
    auto posted = admin_->Post(Tagged(tags));
    EXPECT_EQ(posted.status().code(), absl::StatusCode::kInvalidArgument) << posted.status();
    EXPECT_NE(posted.status().message().find("tag"), std::string::npos) << posted.status();
  }
  auto history = admin_->History("talk", "general");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->messages_size(), 0);
}

TEST_F(KernelChatSettings, ModesAreSetShownAndLogged) {
  auto unknown = admin_calls_->GetChannel("#nowhere");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->name(), "nowhere");
  EXPECT_EQ(unknown->messages(), 0u);

  const auto kOk = absl::StatusCode::kOk;
  ASSERT_EQ(admin_calls_->SetModes(Modes({{"t", true, ""}, {"k", true, "sekrit"}})), kOk);
  ASSERT_TRUE(admin_->SetTopic("talk", "general", "news").ok());
  ASSERT_EQ(admin_calls_->SetModes(Modes({{"k", false, ""}, {"l", true, "10"}})), kOk);

  auto channel = admin_calls_->GetChannel("#GENERAL");
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->name(), "general");
  EXPECT_EQ(channel->messages(), 3u);
  EXPECT_EQ(channel->topic().text(), "news");
  ASSERT_EQ(channel->modes_size(), 2);
  EXPECT_EQ(channel->modes(0).mode(), "l");
  EXPECT_EQ(channel->modes(0).arg(), "10");
  EXPECT_EQ(channel->modes(0).sender(), "op");
  EXPECT_EQ(channel->modes(1).mode(), "t");

  auto history = admin_->History("talk", "general");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->messages_size(), 3);
  EXPECT_EQ(channel->modes(0).author(), history->messages(2).author());
  EXPECT_EQ(channel->modes(0).hlc().wall_ms(), history->messages(2).hlc().wall_ms());
  EXPECT_EQ(history->messages(0).kind(), "modes");
  ASSERT_EQ(history->messages(0).modes_size(), 2);
  EXPECT_EQ(history->messages(0).modes(1).arg(), "sekrit");

  auto listed = admin_->ListChannels("talk");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->channels_size(), 1);
  EXPECT_EQ(listed->channels(0).modes_size(), 2);

  std::vector<std::tuple<std::string, bool, std::string>> many(kMaxModeChanges + 1,
                                                               {"t", true, ""});
  for (const auto& request : {Modes({}), Modes(many), Modes({{std::string(17, 'm'), true, ""}}),
                              Modes({{"k", true, std::string(257, 'a')}})}) {
    EXPECT_EQ(admin_calls_->SetModes(request), absl::StatusCode::kInvalidArgument)
        << request.ShortDebugString();
  }
}

TEST_F(KernelChatSettings, SetModesNeedsWriteAndGetChannelNeedsRead) {
  auto reader = WithRights({"read"});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->SetModes(Modes({{"t", true, ""}})), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(reader->GetChannel("general").ok());

  auto writer = WithRights({"write"});
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->SetModes(Modes({{"t", true, ""}})), absl::StatusCode::kOk);
  EXPECT_EQ(writer->GetChannel("general").status().code(), absl::StatusCode::kPermissionDenied);

  auto channel = reader->GetChannel("general");
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->modes_size(), 1);
}

}  // namespace
}  // namespace lattice::testing
