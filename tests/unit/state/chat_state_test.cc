// The chat state machine's message tags and channel modes: what a post's tags may hold, that
// they are stored with the post, and that each mode of a channel is a last-writer-wins
// register on which every node agrees whatever order the changes arrive in.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "state/chat_payload.h"
#include "state/chat_state.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using Kind = IngestOutcome::Kind;
using Tags = google::protobuf::RepeatedPtrField<v1::ChatTag>;
using Changes = google::protobuf::RepeatedPtrField<v1::ChatModeChange>;

Tags MakeTags(std::vector<std::pair<std::string, std::string>> pairs) {
  Tags tags;
  for (auto& [key, value] : pairs) {
    v1::ChatTag* tag = tags.Add();
    tag->set_key(key);
    tag->set_value(value);
  }
  return tags;
}

v1::ChatModeChange Change(std::string mode, bool on, std::string arg = "") {
  v1::ChatModeChange change;
  change.set_mode(std::move(mode));
  change.set_on(on);
  change.set_arg(std::move(arg));
  return change;
}

Changes MakeChanges(std::vector<v1::ChatModeChange> list) {
  Changes changes;
  for (auto& change : list) *changes.Add() = std::move(change);
  return changes;
}

v1::ChatPayload ModesPayload(const std::string& channel, std::vector<v1::ChatModeChange> changes,
                             const std::string& sender = "op") {
  v1::ChatPayload payload;
  payload.mutable_modes()->set_channel(channel);
  *payload.mutable_modes()->mutable_changes() = MakeChanges(std::move(changes));
  payload.mutable_modes()->set_sender(sender);
  return payload;
}

absl::StatusCode TagsCode(std::vector<std::pair<std::string, std::string>> pairs) {
  return CheckChatTags(MakeTags(std::move(pairs))).code();
}

absl::StatusCode ChangesCode(std::vector<v1::ChatModeChange> list) {
  return CheckChatModeChanges(MakeChanges(std::move(list))).code();
}

TEST(ChatTags, EveryLimitIsAnInvalidArgument) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_TRUE(CheckChatTags(MakeTags({})).ok());
  EXPECT_TRUE(CheckChatTags(MakeTags({{"+draft/reply", "abc"}, {"+x", ""}})).ok());

  std::vector<std::pair<std::string, std::string>> many;
  for (size_t i = 0; i < limits::kMaxChatTags; ++i) many.emplace_back("+k" + std::to_string(i), "v");
  EXPECT_TRUE(CheckChatTags(MakeTags(many)).ok());
  many.emplace_back("+one-more", "v");
  absl::Status too_many = CheckChatTags(MakeTags(many));
  EXPECT_EQ(too_many.code(), kInvalid);
  EXPECT_NE(std::string(too_many.message()).find("33 tags"), std::string::npos) << too_many;

  EXPECT_EQ(TagsCode({{"", "v"}}), kInvalid);
  EXPECT_TRUE(CheckChatTags(MakeTags({{std::string(limits::kMaxChatTagKeyBytes, 'k'), ""}})).ok());
  EXPECT_EQ(TagsCode({{std::string(limits::kMaxChatTagKeyBytes + 1, 'k'), ""}}), kInvalid);
  for (std::string bad : {std::string("a b"), std::string("a\rb"), std::string("a\nb"),
                          std::string("a\0b", 3)}) {
    EXPECT_EQ(TagsCode({{bad, "v"}}), kInvalid) << bad;
  }
  EXPECT_EQ(TagsCode({{"+k\xff", "v"}}), kInvalid);
  EXPECT_EQ(TagsCode({{"+k", "\xc3("}}), kInvalid);
  // A value may hold what a key may not: IRCv3 escapes spaces and line ends in values.
  EXPECT_TRUE(CheckChatTags(MakeTags({{"+k", "a b\r\n;"}})).ok());

  // 4096 bytes of keys and values in all, and not one more.
  std::string value(limits::kMaxChatTagsBytes - 4, 'v');
  EXPECT_TRUE(CheckChatTags(MakeTags({{"+k", "ab"}, {"+l", value.substr(2)}})).ok());
  absl::Status too_big = CheckChatTags(MakeTags({{"+k", "ab"}, {"+l", value.substr(1)}}));
  EXPECT_EQ(too_big.code(), kInvalid);
  EXPECT_NE(std::string(too_big.message()).find("4097 bytes"), std::string::npos) << too_big;
}

TEST(ChatModeChanges, EveryLimitIsAnInvalidArgument) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_TRUE(CheckChatModeChanges(MakeChanges({Change("t", true), Change("k", false)})).ok());
  EXPECT_EQ(ChangesCode({}), kInvalid);
  std::vector<v1::ChatModeChange> many(limits::kMaxChatModeChanges, Change("m", true));
  EXPECT_TRUE(CheckChatModeChanges(MakeChanges(many)).ok());
  many.push_back(Change("n", true));
  EXPECT_EQ(ChangesCode(many), kInvalid);
  EXPECT_EQ(ChangesCode({Change("", true)}), kInvalid);
  EXPECT_TRUE(CheckChatModeChanges(MakeChanges({Change(std::string(16, 'm'), true)})).ok());
  EXPECT_EQ(ChangesCode({Change(std::string(17, 'm'), true)}), kInvalid);
  EXPECT_EQ(ChangesCode({Change("a b", true)}), kInvalid);
  EXPECT_EQ(ChangesCode({Change("\xff", true)}), kInvalid);
  EXPECT_TRUE(CheckChatModeChanges(MakeChanges({Change("k", true, std::string(256, 'a'))})).ok());
  EXPECT_EQ(ChangesCode({Change("k", true, std::string(257, 'a'))}), kInvalid);
  EXPECT_EQ(ChangesCode({Change("k", true, "\xc3(")}), kInvalid);
  EXPECT_EQ(ChangesCode({Change("k", true, "a\r\nQUIT")}), kInvalid);
}

class ChatStateTest : public StoreTest {
 protected:
  void SetUp() override { OpenStore(StoreType::kChat); }

  // A store of nothing, as a node that has seen none of this test's intentions.
  void Reopen() {
    store_.reset();
    std::filesystem::remove_all(dir_.path() + "/store");
    OpenStore(StoreType::kChat);
  }

  std::vector<v1::ChatMessage> History(const std::string& channel) {
    auto page = ReadChatHistory(store_->db(), channel, 100, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->messages : std::vector<v1::ChatMessage>{};
  }

  // "mode=arg" for each mode that is on, by name.
  std::vector<std::string> Modes(const std::string& channel) {
    auto modes = ReadChannelModes(store_->db(), channel);
    EXPECT_TRUE(modes.ok()) << modes.status();
    std::vector<std::string> shown;
    if (modes.ok()) for (const auto& m : *modes) shown.push_back(m.mode() + "=" + m.arg());
    return shown;
  }

  IngestOutcome IngestModes(ForeignAuthor& author, const std::string& channel,
                            std::vector<v1::ChatModeChange> changes, HlcStamp hlc) {
    return IngestOne(author.Next(kOpChat, ModesPayload(channel, std::move(changes)).SerializeAsString(),
                                 {}, hlc));
  }
};

TEST_F(ChatStateTest, PostTagsAreStoredWithTheMessage) {
  v1::ChatPayload payload;
  payload.mutable_post()->set_channel("general");
  payload.mutable_post()->set_text("hello");
  *payload.mutable_post()->mutable_tags() = MakeTags({{"+draft/react", "x"}, {"+y", ""}});
  auto receipt = store_->WriteChat(payload);
  ASSERT_TRUE(receipt.ok()) << receipt.status();

  auto history = History("#general");
  ASSERT_EQ(history.size(), 1u);
  ASSERT_EQ(history[0].tags_size(), 2);
  EXPECT_EQ(history[0].tags(0).key(), "+draft/react");
  EXPECT_EQ(history[0].tags(0).value(), "x");
  EXPECT_EQ(history[0].tags(1).key(), "+y");
  auto read = ReadChatMessage(store_->db(), receipt->hash);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->tags_size(), 2);
}

TEST_F(ChatStateTest, ALocalPostOverTheTagLimitsIsRefused) {
  v1::ChatPayload payload;
  payload.mutable_post()->set_channel("general");
  payload.mutable_post()->set_text("hello");
  *payload.mutable_post()->mutable_tags() = MakeTags({{"bad key", "v"}});
  EXPECT_EQ(store_->WriteChat(payload).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->last_witness(), 0u);
}

TEST_F(ChatStateTest, APeerPostOverTheTagLimitsIsANoOp) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  v1::ChatPayload payload;
  payload.mutable_post()->set_channel("general");
  payload.mutable_post()->set_text("too many tags");
  std::vector<std::pair<std::string, std::string>> many;
  for (size_t i = 0; i <= limits::kMaxChatTags; ++i) many.emplace_back("+k" + std::to_string(i), "");
  *payload.mutable_post()->mutable_tags() = MakeTags(many);
  auto outcome = IngestOne(other.Next(kOpChat, payload.SerializeAsString()));
  EXPECT_EQ(outcome.kind, Kind::kApplied);
  EXPECT_NE(outcome.reason.find("tags"), std::string::npos) << outcome.reason;
  EXPECT_TRUE(History("general").empty());

  // So is a mode change over its limits: nothing of it is kept.
  auto modes = IngestModes(other, "general", {Change("t", true), Change(std::string(17, 'x'), true)},
                           {1'700'000'000'000, 0});
  EXPECT_EQ(modes.kind, Kind::kApplied);
  EXPECT_FALSE(modes.reason.empty());
  EXPECT_TRUE(Modes("general").empty());
  EXPECT_EQ(store_->last_witness(), 2u);
}

TEST(ChatMsgid, OnlyShortPlainIdsThatAreNoHashAreAccepted) {
  EXPECT_TRUE(CheckChatMsgid("").ok());
  EXPECT_TRUE(CheckChatMsgid("0123456789abcdef.1f").ok());
  EXPECT_TRUE(CheckChatMsgid("A-z_0.9:x").ok());
  EXPECT_TRUE(CheckChatMsgid(std::string(limits::kMaxChatMsgidBytes, 'm')).ok());
  EXPECT_TRUE(CheckChatMsgid(std::string(63, 'a')).ok());
  for (const std::string& bad :
       {std::string(limits::kMaxChatMsgidBytes + 1, 'm'), std::string("a b"), std::string("a;b"),
        std::string("a\\b"), std::string("caf\xc3\xa9"), std::string("a\0b", 3),
        std::string(64, 'a'), std::string(64, 'F')}) {
    EXPECT_EQ(CheckChatMsgid(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(ChatStateTest, APostKeepsItsMsgidAndRepliesNameTheirParentByIt) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  v1::ChatPayload post;
  post.mutable_post()->set_channel("general");
  post.mutable_post()->set_text("hello");
  post.mutable_post()->set_msgid("gw.1");
  auto receipt = store_->WriteChat(post);
  ASSERT_TRUE(receipt.ok()) << receipt.status();

  auto found = FindChatMessage(store_->db(), "gw.1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->hash(), ToHex(receipt->hash));
  EXPECT_EQ(found->msgid(), "gw.1");
  auto by_hash = FindChatMessage(store_->db(), ToHex(receipt->hash));
  ASSERT_TRUE(by_hash.ok()) << by_hash.status();
  EXPECT_EQ(by_hash->msgid(), "gw.1");
  EXPECT_EQ(FindChatMessage(store_->db(), "gw.2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FindChatMessage(store_->db(), "no such id").status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::ChatPayload reply;
  reply.mutable_reply()->set_ref(receipt->hash);
  reply.mutable_reply()->set_text("hi back");
  auto outcome = IngestOne(other.Next(kOpChat, reply.SerializeAsString(), {receipt->hash}));
  ASSERT_EQ(outcome.kind, Kind::kApplied) << outcome.reason;
  ASSERT_TRUE(outcome.reason.empty()) << outcome.reason;
  auto history = History("general");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].msgid(), "gw.1");
  EXPECT_EQ(history[1].kind(), "reply");
  EXPECT_EQ(history[1].ref(), ToHex(receipt->hash));
  EXPECT_EQ(history[1].ref_msgid(), "gw.1");
  EXPECT_TRUE(history[1].msgid().empty());
}

TEST_F(ChatStateTest, ALocalPostWithAMalformedMsgidIsRefusedAndAPeersIsANoOp) {
  v1::ChatPayload post;
  post.mutable_post()->set_channel("general");
  post.mutable_post()->set_text("hello");
  post.mutable_post()->set_msgid(std::string(64, 'a'));
  EXPECT_EQ(store_->WriteChat(post).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->last_witness(), 0u);

  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  post.mutable_post()->set_msgid("bad id");
  auto outcome = IngestOne(other.Next(kOpChat, post.SerializeAsString()));
  EXPECT_EQ(outcome.kind, Kind::kApplied);
  EXPECT_NE(outcome.reason.find("msgid"), std::string::npos) << outcome.reason;
  EXPECT_TRUE(History("general").empty());
}

TEST_F(ChatStateTest, TwoPostsGivenOneMsgidNameTheFirstInTheLogInEitherOrder) {
  ForeignAuthor alice(store_id_);
  ForeignAuthor bob(store_id_);
  members_ = {alice.id(), bob.id()};
  auto post = [](const std::string& text) {
    v1::ChatPayload payload;
    payload.mutable_post()->set_channel("c");
    payload.mutable_post()->set_text(text);
    payload.mutable_post()->set_msgid("same.1");
    return payload.SerializeAsString();
  };
  // Bob's copy is the later one by clock, whichever arrives first.
  DecodedIntention first = alice.Next(kOpChat, post("alice's"), {}, {1'700'000'000'000, 0});
  DecodedIntention second = bob.Next(kOpChat, post("bob's"), {}, {1'700'000'000'050, 0});
  std::vector<std::string> state_hashes;
  for (bool reversed : {false, true}) {
    Reopen();
    for (const DecodedIntention* intention :
         reversed ? std::vector{&second, &first} : std::vector{&first, &second}) {
      auto outcome = IngestOne(*intention);
      ASSERT_EQ(outcome.kind, Kind::kApplied) << outcome.reason;
      ASSERT_TRUE(outcome.reason.empty()) << outcome.reason;
    }
    auto found = FindChatMessage(store_->db(), "same.1");
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->text(), "alice's") << "reversed " << reversed;
    EXPECT_EQ(History("c").size(), 2u);  // both are kept; the msgid names one
    auto hash = store_->StateHash();
    ASSERT_TRUE(hash.ok()) << hash.status();
    state_hashes.push_back(*hash);
  }
  EXPECT_EQ(state_hashes[1], state_hashes[0]);
}

TEST_F(ChatStateTest, ModesAreSetAndClearedAndShowInTheLog) {
  ASSERT_TRUE(store_->WriteChat(ModesPayload("general", {Change("t", true), Change("k", true, "sekrit"),
                                                         Change("l", true, "10")})).ok());
  EXPECT_EQ(Modes("#General"), (std::vector<std::string>{"k=sekrit", "l=10", "t="}));
  // Clearing drops the argument; the last change of a mode in one set is the one kept.
  ASSERT_TRUE(store_->WriteChat(ModesPayload("#general", {Change("k", false, "sekrit"),
                                                          Change("l", true, "20"),
                                                          Change("l", false)})).ok());
  EXPECT_EQ(Modes("general"), (std::vector<std::string>{"t="}));

  auto history = History("general");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].kind(), "modes");
  EXPECT_EQ(history[1].sender(), "op");
  ASSERT_EQ(history[1].modes_size(), 3);
  EXPECT_EQ(history[1].modes(0).mode(), "k");
  EXPECT_FALSE(history[1].modes(0).on());

  auto channel = ReadChannel(store_->db(), "#GENERAL");
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->name(), "general");
  EXPECT_EQ(channel->messages(), 2u);
  ASSERT_EQ(channel->modes_size(), 1);
  EXPECT_EQ(channel->modes(0).mode(), "t");
  EXPECT_EQ(channel->modes(0).sender(), "op");
  EXPECT_EQ(channel->modes(0).author(), history[0].author());
  EXPECT_GT(channel->modes(0).hlc().wall_ms(), 0u);

  auto unknown = ReadChannel(store_->db(), "nowhere");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->messages(), 0u);
  EXPECT_EQ(unknown->modes_size(), 0);
  EXPECT_FALSE(unknown->topic().set());

  auto listed = ReadChannels(store_->db());
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].modes_size(), 1);
}

TEST_F(ChatStateTest, ConcurrentChangesOfOneModeHaveTheSameWinnerInEitherOrder) {
  ForeignAuthor alice(store_id_);
  ForeignAuthor bob(store_id_);
  members_ = {alice.id(), bob.id()};
  const HlcStamp same{1'700'000'000'000, 3};
  // The same clock on both: the hash decides. A later clock wins over an earlier one.
  std::vector<DecodedIntention> tie{
      alice.Next(kOpChat, ModesPayload("c", {Change("k", true, "alice")}).SerializeAsString(), {}, same),
      bob.Next(kOpChat, ModesPayload("#C", {Change("k", true, "bob")}).SerializeAsString(), {}, same)};
  std::vector<DecodedIntention> later{
      alice.Next(kOpChat, ModesPayload("c", {Change("l", true, "5")}).SerializeAsString(), {},
                 {1'700'000'000'100, 0}),
      bob.Next(kOpChat, ModesPayload("c", {Change("l", false)}).SerializeAsString(), {},
               {1'700'000'000'050, 0})};
  const std::string tie_winner = tie[0].hash > tie[1].hash ? "alice" : "bob";

  std::vector<std::vector<std::string>> seen;
  std::vector<std::string> state_hashes;
  for (bool reversed : {false, true}) {
    Reopen();
    std::vector<const DecodedIntention*> order;
    // Each author's chain in its own order; the two chains interleaved either way round.
    if (!reversed) {
      order = {&tie[0], &later[0], &tie[1], &later[1]};
    } else {
      order = {&tie[1], &later[1], &tie[0], &later[0]};
    }
    for (const DecodedIntention* intention : order) {
      auto outcome = IngestOne(*intention);
      ASSERT_EQ(outcome.kind, Kind::kApplied) << outcome.reason;
      ASSERT_TRUE(outcome.reason.empty()) << outcome.reason;
    }
    seen.push_back(Modes("c"));
    auto hash = store_->StateHash();
    ASSERT_TRUE(hash.ok()) << hash.status();
    state_hashes.push_back(*hash);
  }
  EXPECT_EQ(seen[0], (std::vector<std::string>{"k=" + tie_winner, "l=5"}));
  EXPECT_EQ(seen[1], seen[0]);
  EXPECT_EQ(state_hashes[1], state_hashes[0]);
}

TEST_F(ChatStateTest, DifferentModesFromTwoAuthorsAreBothKept) {
  ForeignAuthor alice(store_id_);
  ForeignAuthor bob(store_id_);
  members_ = {alice.id(), bob.id()};
  ASSERT_EQ(IngestModes(alice, "c", {Change("t", true)}, {1'700'000'000'000, 0}).kind, Kind::kApplied);
  ASSERT_EQ(IngestModes(bob, "#c", {Change("n", true)}, {1'700'000'000'000, 0}).kind, Kind::kApplied);
  EXPECT_EQ(Modes("c"), (std::vector<std::string>{"n=", "t="}));
  auto modes = ReadChannelModes(store_->db(), "c");
  ASSERT_TRUE(modes.ok());
  ASSERT_EQ(modes->size(), 2u);
  EXPECT_NE((*modes)[0].author(), (*modes)[1].author());
}

}  // namespace
}  // namespace lattice::kernel::testing
