// IRCv3 as clients expect it, client lines in and client lines out with the hand-driven
// backend of fakes.h: client-only tags on channel messages (stored, shown only to
// message-tags clients, 417 beyond the limit), echo-message with msgid and time,
// labeled-response (a labelled reply, a labeled-response batch, ACK), and draft/chathistory
// (no history on JOIN, CHATHISTORY selectors, FAIL replies).
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.h"
#include "src/chathistory.h"
#include "src/message_tags.h"
#include "src/server.h"
#include "src/text_lines.h"

namespace lattice::irc {
namespace {

using testing::FakeBackend;
using testing::FakeTransport;

const std::string kSelf = "5e1f5e1f" + std::string(56, '0');
const std::string kNodeA = "a1b2c3d4" + std::string(56, '1');
const std::string kHashA = std::string(63, 'a') + "1";

class Ircv3Test : public ::testing::Test {
 protected:
  Ircv3Test() {
    ServerOptions options;
    options.server_name = "irc.test";
    options.store = "chat1";
    options.node_id = kSelf;
    options.wall_clock_ms = [this] { return wall_ms_; };
    server_ = std::make_unique<IrcServer>(options, transport_, backend_);
  }

  ClientId Connect(const std::string& nick, const std::string& caps = "") {
    ClientId id = next_id_++;
    server_->OnConnect(id, now_ms_);
    if (!caps.empty()) {
      Line(id, "CAP LS 302");
      Line(id, "CAP REQ :" + caps);
    }
    Line(id, "NICK " + nick);
    Line(id, "USER " + nick + " 0 * :" + nick);
    if (!caps.empty()) Line(id, "CAP END");
    auto lines = Take(id);
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
      return l.find(" 001 ") != std::string::npos;
    })) << nick;
    return id;
  }

  void Line(ClientId id, const std::string& text) { server_->OnLine(id, text, now_ms_); }
  std::vector<std::string> Take(ClientId id) { return transport_.Take(id); }

  void Join(ClientId id, const std::string& channel, ChannelSnapshot snapshot = {}) {
    Line(id, "JOIN " + channel);
    ASSERT_FALSE(backend_.fetches.empty());
    backend_.AnswerFetch(std::move(snapshot));
  }

  static v1::ChatMessage Chat(const std::string& hash, const std::string& text,
                              const std::string& sender, const std::string& author,
                              uint64_t cursor, uint64_t wall_ms) {
    v1::ChatMessage m;
    m.set_hash(hash);
    m.set_channel("c");
    m.set_kind("post");
    m.set_text(text);
    m.set_sender(sender);
    m.set_author(author);
    m.set_cursor(cursor);
    m.mutable_hlc()->set_wall_ms(wall_ms);
    return m;
  }

  void Watch(v1::ChatMessage m) { server_->OnChatMessage(std::move(m), now_ms_); }

  // Ten stored messages of #c, "m1" (oldest) to "m10", one second apart from kT0, and a
  // topic change between m5 and m6.
  static constexpr uint64_t kT0 = 1714566000000;  // 2024-05-01T12:20:00.000Z
  void StoreTenMessages() {
    auto& history = backend_.history["c"];
    for (int i = 1; i <= 10; ++i) {
      history.push_back(Chat("m" + std::to_string(i), "text " + std::to_string(i), "dave", kNodeA,
                             static_cast<uint64_t>(i), kT0 + static_cast<uint64_t>(i) * 1000));
      if (i == 5) {
        v1::ChatMessage topic = Chat("t1", "a topic", "dave", kNodeA, 100, kT0 + 5'500);
        topic.set_kind("topic");
        history.push_back(topic);
      }
    }
  }

  // The texts of the PRIVMSG lines of `lines`, in order.
  static std::vector<std::string> Texts(const std::vector<std::string>& lines) {
    std::vector<std::string> texts;
    for (const auto& line : lines) {
      size_t at = line.find(" PRIVMSG #c :");
      if (at != std::string::npos) texts.push_back(line.substr(at + 13));
    }
    return texts;
  }

  FakeTransport transport_;
  FakeBackend backend_;
  std::unique_ptr<IrcServer> server_;
  ClientId next_id_ = 1;
  int64_t now_ms_ = 1'000'000;
  uint64_t wall_ms_ = 1'700'000'000'000;
};

// ---- Capabilities and ISUPPORT ---------------------------------------------------------------

TEST_F(Ircv3Test, IsupportAdvertisesChatHistoryAndReferenceTypes) {
  ClientId id = next_id_++;
  server_->OnConnect(id, now_ms_);
  Line(id, "NICK alice");
  Line(id, "USER alice 0 * :A");
  std::string all;
  for (const auto& line : Take(id)) all += line + "\n";
  EXPECT_NE(all.find(" CHATHISTORY=100 "), std::string::npos) << all;
  EXPECT_NE(all.find(" MSGREFTYPES=msgid,timestamp "), std::string::npos) << all;
}

// ---- Client-only tags on channel messages ----------------------------------------------------

TEST_F(Ircv3Test, ChannelTagsAreStoredAndShownOnlyToMessageTagsClients) {
  ClientId alice = Connect("alice", "message-tags");
  ClientId bob = Connect("bob", "message-tags");
  ClientId carol = Connect("carol");
  Join(alice, "#c");
  Join(bob, "#c");
  Join(carol, "#c");
  Take(alice), Take(bob), Take(carol);

  Line(alice, "@+example=a\\sb\\:c;+draft/reply=" + kHashA + ";label=x PRIVMSG #c :hi");
  ASSERT_EQ(backend_.posts.size(), 1u);  // with more tags than +draft/reply: a post
  const v1::PostRequest& post = backend_.posts[0];
  ASSERT_EQ(post.tags_size(), 2);
  EXPECT_EQ(post.tags(0).key(), "+example");
  EXPECT_EQ(post.tags(0).value(), "a b;c");  // stored unescaped
  EXPECT_EQ(post.tags(1).key(), "+draft/reply");
  EXPECT_EQ(post.tags(1).value(), kHashA);
  EXPECT_EQ(Take(bob), (std::vector<std::string>{
                           "@msgid=" + post.msgid() + ";+example=a\\sb\\:c;+draft/reply=" +
                           kHashA + " :alice!alice@5e1f5e1f.lattice PRIVMSG #c :hi"}));
  EXPECT_EQ(Take(carol),
            (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c :hi"}));
  backend_.AnswerWrite("h1");

  // Another node's post with the same tags, and one from another tool whose key would break
  // the line: that one is left out.
  v1::ChatMessage stored = Chat("h2", "hi", "dave", kNodeA, 7, 1714566896789);
  stored.set_msgid("0123456789abcdef.1");
  *stored.add_tags() = post.tags(0);
  *stored.add_tags() = post.tags(1);
  v1::ChatTag hostile;
  hostile.set_key("+bad key");
  hostile.set_value("x");
  *stored.add_tags() = hostile;
  Watch(stored);
  auto lines = Take(bob);
  ASSERT_EQ(lines.size(), 2u);  // dave's JOIN, then the line
  EXPECT_EQ(lines[1], "@msgid=0123456789abcdef.1;+example=a\\sb\\:c;+draft/reply=" + kHashA +
                          " :dave!dave@a1b2c3d4.lattice PRIVMSG #c :hi");
  EXPECT_EQ(Take(carol).back(), ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :hi");
}

TEST_F(Ircv3Test, AReplyWithOnlyTheReplyTagIsStillAReply) {
  ClientId alice = Connect("alice", "message-tags");
  Join(alice, "#c");
  Line(alice, "@+draft/reply=" + kHashA + " PRIVMSG #c :yes");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].kind, "reply");
  EXPECT_TRUE(backend_.posts.empty());
}

TEST_F(Ircv3Test, AReplyMayNameAPostByTheMsgidItWasShownWith) {
  ClientId alice = Connect("alice", "message-tags");
  ClientId bob = Connect("bob", "message-tags");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(alice, "PRIVMSG #c :first");
  ASSERT_EQ(backend_.posts.size(), 1u);
  const std::string msgid = backend_.posts[0].msgid();
  Take(bob);

  // Bob saw it before the kernel answered, and answers at once: his reply goes after the post,
  // in the same order of writes. The kernel finds the parent by its msgid; the reply shows the
  // msgid it was given.
  Line(bob, "@+draft/reply=" + msgid + " PRIVMSG #c :re");
  ASSERT_EQ(backend_.writes.size(), 2u);
  const uint64_t alices_order = backend_.writes[0].order;
  EXPECT_EQ(backend_.writes[1].kind, "reply");
  EXPECT_EQ(backend_.writes[1].channel, msgid);  // the fake keeps the ref there
  EXPECT_EQ(backend_.writes[1].order, alices_order);
  backend_.AnswerWrite("h1");
  backend_.AnswerWrite("h2");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             "@msgid=h2;+draft/reply=" + msgid +
                             " :bob!bob@5e1f5e1f.lattice PRIVMSG #c :re"}));
  // Once the post is answered, a reply is bob's own write again.
  Line(bob, "@+draft/reply=" + msgid + ";+draft/react=+1 TAGMSG #c");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].kind, "react");
  const uint64_t reacts_order = backend_.writes[0].order;
  EXPECT_NE(reacts_order, alices_order);
  backend_.AnswerWrite("h3");
  Line(bob, "PRIVMSG #c :mine");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].order, reacts_order);  // bob's
  backend_.AnswerWrite("h4");

  // A private message's msgid names nothing stored: the tag travels with a post.
  Line(bob, "@+draft/reply=e18b-1 PRIVMSG #c :not stored");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].kind, "post");
}

TEST_F(Ircv3Test, ClientTagsOverTheLimitGet417AndAreNotSent) {
  ClientId alice = Connect("alice", "message-tags");
  ClientId bob = Connect("bob", "message-tags");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  std::string big(kMaxClientTagDataBytes, 'x');
  Line(alice, "@+big=" + big + " PRIVMSG #c :hi");
  Line(alice, "@+big=" + big + " TAGMSG #c");
  Line(alice, "@+big=" + big + " PRIVMSG bob :hi");
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) EXPECT_EQ(line.substr(0, 14), ":irc.test 417 ") << line;
  EXPECT_TRUE(backend_.writes.empty());
  EXPECT_TRUE(Take(bob).empty());
  // Exactly at the limit is fine: "+big=" and the value make 4094 bytes.
  Line(alice, "@+big=" + big.substr(5) + " TAGMSG #c");
  EXPECT_EQ(Take(bob).size(), 1u);
}

TEST_F(Ircv3Test, ChannelTagmsgReachesLocalMembersWithMessageTagsOnly) {
  ClientId alice = Connect("alice", "message-tags echo-message");
  ClientId bob = Connect("bob", "message-tags");
  ClientId carol = Connect("carol");
  Join(alice, "#c");
  Join(bob, "#c");
  Join(carol, "#c");
  Take(alice), Take(bob), Take(carol);
  Line(alice, "@+typing=active TAGMSG #c");
  // Not stored, so not a hash: a msgid of this gateway's own.
  const std::string expected =
      "@msgid=e18bcfe56800-1;+typing=active :alice!alice@5e1f5e1f.lattice TAGMSG #c";
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));
  EXPECT_EQ(Take(alice), (std::vector<std::string>{expected}));  // echo-message
  EXPECT_TRUE(Take(carol).empty());
  EXPECT_TRUE(backend_.writes.empty());  // not stored
}

TEST_F(Ircv3Test, PrivateTagmsgIsEchoedUnderEchoMessage) {
  ClientId alice = Connect("alice", "message-tags echo-message");
  ClientId bob = Connect("bob", "message-tags");
  Line(alice, "@+typing=paused TAGMSG bob");
  const std::string expected =
      "@msgid=e18bcfe56800-1;+typing=paused :alice!alice@5e1f5e1f.lattice TAGMSG bob";
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));
  EXPECT_EQ(Take(alice), (std::vector<std::string>{expected}));
}

// ---- echo-message, server-time, msgid ----------------------------------------------------------

TEST_F(Ircv3Test, EchoedChannelMessageHasTheStoredMsgidAndTime) {
  ClientId alice = Connect("alice", "echo-message server-time message-tags");
  Join(alice, "#c");
  Take(alice);
  Line(alice, "@+example=1 NOTICE #c :note");
  // Shown at once, with the msgid and time it is posted with.
  ASSERT_EQ(backend_.posts.size(), 1u);
  const v1::PostRequest& post = backend_.posts[0];
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "@time=" + FormatServerTime(post.time_ms()) + ";msgid=" + post.msgid() +
                          ";+example=1 :alice!alice@5e1f5e1f.lattice NOTICE #c :note");
  backend_.AnswerWrite("h1");
  v1::ChatMessage stored = Chat("h1", "note", "alice", kSelf, 7, post.time_ms() + 3);
  stored.set_msgid(post.msgid());
  stored.set_time_ms(post.time_ms());
  *stored.add_tags() = post.tags(0);
  Watch(stored);
  EXPECT_TRUE(Take(alice).empty());  // once
}

// ---- labeled-response --------------------------------------------------------------------------

TEST_F(Ircv3Test, AwayNotifyTellsChannelPeersWithTheCapability) {
  ClientId alice = Connect("alice", "away-notify");
  ClientId bob = Connect("bob");
  ClientId carol = Connect("carol");
  Join(alice, "#c");
  Join(bob, "#c");
  Join(carol, "#c");
  Take(alice);
  Take(carol);
  Line(bob, "AWAY :lunch");
  EXPECT_EQ(Take(alice), std::vector<std::string>{":bob!bob@5e1f5e1f.lattice AWAY :lunch"});
  Line(bob, "AWAY");
  EXPECT_EQ(Take(alice), std::vector<std::string>{":bob!bob@5e1f5e1f.lattice AWAY"});
  EXPECT_TRUE(Take(carol).empty());
  Take(bob);

  // An away user's JOIN is followed by its AWAY, for away-notify members only.
  Line(carol, "AWAY :gone");
  Take(alice);
  Line(carol, "PART #c");
  Take(alice);
  Take(bob);
  Join(carol, "#c");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":carol!carol@5e1f5e1f.lattice JOIN #c",
                                                   ":carol!carol@5e1f5e1f.lattice AWAY :gone"}));
  EXPECT_EQ(Take(bob), std::vector<std::string>{":carol!carol@5e1f5e1f.lattice JOIN #c"});
}

TEST_F(Ircv3Test, LabeledPingGetsALabeledPong) {
  ClientId alice = Connect("alice", "labeled-response batch");
  Line(alice, "@label=abc PING :x");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{"@label=abc :irc.test PONG irc.test :x"}));
  Line(alice, "PING :y");  // no label, no tag
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test PONG irc.test :y"}));
}

TEST_F(Ircv3Test, LabelWithoutTheCapabilityIsIgnored) {
  ClientId alice = Connect("alice", "batch");
  Line(alice, "@label=abc PING :x");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test PONG irc.test :x"}));
  Line(alice, "@label=abc PONG :x");
  EXPECT_TRUE(Take(alice).empty());
}

TEST_F(Ircv3Test, LabeledCommandWithoutReplyGetsAck) {
  ClientId alice = Connect("alice", "labeled-response batch");
  Line(alice, "@label=q1 PONG :x");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{"@label=q1 :irc.test ACK"}));
}

TEST_F(Ircv3Test, LabeledJoinRepliesInALabeledResponseBatchWhenTheKernelAnswers) {
  ClientId alice = Connect("alice", "labeled-response batch");
  ClientId bob = Connect("bob");
  Join(bob, "#c");
  Take(bob);
  Line(alice, "@label=j1 JOIN #c");
  EXPECT_TRUE(Take(alice).empty());
  // Something for alice that is not a reply to her JOIN goes out at once, unlabelled.
  Line(bob, "PRIVMSG alice :psst");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice PRIVMSG alice :psst"}));
  backend_.AnswerFetch({});
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "@label=j1 :irc.test BATCH +L1 labeled-response");
  EXPECT_EQ(lines[1], "@batch=L1 :alice!alice@5e1f5e1f.lattice JOIN #c");
  EXPECT_EQ(lines[2].substr(0, 30), "@batch=L1 :irc.test 353 alice ");
  EXPECT_EQ(lines[3], "@batch=L1 :irc.test 366 alice #c :End of /NAMES list.");
  EXPECT_EQ(lines[4], ":irc.test BATCH -L1");
  // Bob sees the JOIN untagged.
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice JOIN #c"}));
}

TEST_F(Ircv3Test, ALabelledMessageToOneselfLabelsOnlyTheEcho) {
  ClientId alice = Connect("alice", "labeled-response batch echo-message");
  Line(alice, "@label=s1 PRIVMSG alice :hi");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             ":alice!alice@5e1f5e1f.lattice PRIVMSG alice :hi",
                             "@label=s1 :alice!alice@5e1f5e1f.lattice PRIVMSG alice :hi"}));
}

TEST_F(Ircv3Test, AReactionIsATagmsgForMessageTagsClientsAndAnActionForOthers) {
  ClientId alice = Connect("alice", "message-tags echo-message");
  ClientId bob = Connect("bob", "message-tags");
  ClientId carol = Connect("carol");
  Join(alice, "#c");
  Join(bob, "#c");
  Join(carol, "#c");
  Take(alice), Take(bob), Take(carol);
  Line(alice, "@+draft/reply=" + kHashA + ";+draft/react=+1 TAGMSG #c");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].kind, "react");
  backend_.AnswerWrite("h1");
  std::string tagged = "@msgid=h1;+draft/reply=" + kHashA +
                       ";+draft/react=+1 :alice!alice@5e1f5e1f.lattice TAGMSG #c";
  EXPECT_EQ(Take(alice), std::vector<std::string>{tagged});
  EXPECT_EQ(Take(bob), std::vector<std::string>{tagged});
  EXPECT_EQ(Take(carol), std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c "
                                                  ":\x01"
                                                  "ACTION reacted with +1\x01"});
}

TEST_F(Ircv3Test, LabeledChannelMessageLabelsItsEchoOrIsAcked) {
  ClientId alice = Connect("alice", "labeled-response batch echo-message");
  ClientId bob = Connect("bob", "labeled-response batch");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);

  Line(alice, "@label=m1 PRIVMSG #c :hello");
  // The others see it at once; the sender's labelled echo ends its command, at the answer.
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c :hello"}));
  EXPECT_TRUE(Take(alice).empty());
  backend_.AnswerWrite("h1");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             "@label=m1 :alice!alice@5e1f5e1f.lattice PRIVMSG #c :hello"}));

  // Without echo-message, nothing answers the PRIVMSG: ACK once the kernel has it.
  Line(bob, "@label=m2 PRIVMSG #c :hi");
  EXPECT_TRUE(Take(bob).empty());
  backend_.AnswerWrite("h2");
  EXPECT_EQ(Take(bob), (std::vector<std::string>{"@label=m2 :irc.test ACK"}));
  // A failed write is the labelled reply.
  Line(bob, "@label=m3 PRIVMSG #c :lost");
  backend_.AnswerWrite("", absl::UnavailableError("kernel gone"));
  auto lines = Take(bob);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(0, 28), "@label=m3 :irc.test 404 bob ");
}

// ---- draft/chathistory ------------------------------------------------------------------------

TEST_F(Ircv3Test, ChatHistoryClientGetsNoHistoryOnJoin) {
  ClientId alice = Connect("alice", "draft/chathistory batch server-time message-tags");
  ChannelSnapshot snapshot;
  snapshot.history = {Chat("h1", "old", "dave", kNodeA, 3, 1714566896789)};
  snapshot.horizon = 3;
  Join(alice, "#c", snapshot);
  for (const auto& line : Take(alice)) {
    EXPECT_EQ(line.find("BATCH"), std::string::npos) << line;
    EXPECT_EQ(line.find("PRIVMSG"), std::string::npos) << line;
  }
}

TEST_F(Ircv3Test, ChatHistoryLatestAnswersInABatchWithMsgidAndTime) {
  StoreTenMessages();
  ClientId alice = Connect("alice", "draft/chathistory batch server-time message-tags");
  Line(alice, "CHATHISTORY LATEST #c * 3");
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], ":irc.test BATCH +history1 chathistory #c");
  EXPECT_EQ(lines[1],
            "@batch=history1;time=2024-05-01T12:20:08.000Z;msgid=m8 "
            ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :text 8");
  EXPECT_EQ(Texts(lines), (std::vector<std::string>{"text 8", "text 9", "text 10"}));
  EXPECT_EQ(lines[4], ":irc.test BATCH -history1");
  // LATEST * reads exactly the newest page.
  ASSERT_EQ(backend_.history_reads.size(), 1u);
  EXPECT_EQ(backend_.history_reads[0].limit, 3u);
  EXPECT_EQ(backend_.history_reads[0].before, "");
}

TEST_F(Ircv3Test, ChatHistorySelectors) {
  StoreTenMessages();
  ClientId alice = Connect("alice", "draft/chathistory batch server-time message-tags");
  auto ask = [&](const std::string& line) {
    Line(alice, line);
    return Texts(Take(alice));
  };
  using Want = std::vector<std::string>;
  EXPECT_EQ(ask("CHATHISTORY BEFORE #c msgid=m5 3"), (Want{"text 2", "text 3", "text 4"}));
  EXPECT_EQ(ask("CHATHISTORY BEFORE #c msgid=m2 3"), (Want{"text 1"}));
  EXPECT_EQ(ask("CHATHISTORY AFTER #c msgid=m5 2"), (Want{"text 6", "text 7"}));
  EXPECT_EQ(ask("CHATHISTORY LATEST #c msgid=m8 10"), (Want{"text 9", "text 10"}));
  EXPECT_EQ(ask("CHATHISTORY AROUND #c msgid=m5 3"), (Want{"text 4", "text 5", "text 6"}));
  EXPECT_EQ(ask("CHATHISTORY BETWEEN #c msgid=m2 msgid=m6 10"),
            (Want{"text 3", "text 4", "text 5"}));
  EXPECT_EQ(ask("CHATHISTORY BETWEEN #c msgid=m9 msgid=m2 2"), (Want{"text 7", "text 8"}));
  // Timestamps: m3 is at kT0 + 3 s.
  EXPECT_EQ(ask("CHATHISTORY BEFORE #c timestamp=2024-05-01T12:20:03.000Z 5"),
            (Want{"text 1", "text 2"}));
  EXPECT_EQ(ask("CHATHISTORY AFTER #c timestamp=2024-05-01T12:20:03.500Z 2"),
            (Want{"text 4", "text 5"}));
  EXPECT_EQ(ask("CHATHISTORY LATEST #C * 100").size(), 10u);  // topics are not played
}

TEST_F(Ircv3Test, ChatHistoryPagesBackForAnOldMsgid) {
  auto& history = backend_.history["c"];
  for (int i = 1; i <= 1200; ++i) {
    history.push_back(Chat("m" + std::to_string(i), "text " + std::to_string(i), "dave", kNodeA,
                           static_cast<uint64_t>(i), kT0 + static_cast<uint64_t>(i)));
  }
  ClientId alice = Connect("alice", "draft/chathistory batch");
  Line(alice, "CHATHISTORY BEFORE #c msgid=m3 5");
  EXPECT_EQ(Texts(Take(alice)), (std::vector<std::string>{"text 1", "text 2"}));
  EXPECT_EQ(backend_.history_reads.size(), 3u);  // 500 + 500 + 200
  EXPECT_EQ(backend_.history_reads[1].before, "700");
}

TEST_F(Ircv3Test, ChatHistoryErrorsAreFailReplies) {
  StoreTenMessages();
  ClientId alice = Connect("alice", "draft/chathistory batch");
  Line(alice, "CHATHISTORY FROB #c * 5");
  Line(alice, "CHATHISTORY LATEST #c");
  Line(alice, "CHATHISTORY BEFORE #c * 5");
  Line(alice, "CHATHISTORY LATEST #c msgid=m1 0");
  Line(alice, "CHATHISTORY LATEST #c when=now 5");
  Line(alice, "CHATHISTORY LATEST #c timestamp=yesterday 5");
  Line(alice, "CHATHISTORY LATEST #bad,name * 5");
  Line(alice, "CHATHISTORY BEFORE #c msgid=nope 5");
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], ":irc.test FAIL CHATHISTORY INVALID_PARAMS FROB :Unknown subcommand");
  EXPECT_EQ(lines[1], ":irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST :Missing parameters");
  EXPECT_EQ(lines[2].substr(0, 48), ":irc.test FAIL CHATHISTORY INVALID_PARAMS BEFORE");
  EXPECT_EQ(lines[3].substr(0, 50), ":irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST 0");
  EXPECT_EQ(lines[4].substr(0, 55), ":irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST when=n");
  EXPECT_EQ(lines[5].substr(0, 48), ":irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST");
  EXPECT_EQ(lines[6],
            ":irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #bad,name :No such channel");
  EXPECT_EQ(lines[7].substr(0, 52), ":irc.test FAIL CHATHISTORY MESSAGE_ERROR BEFORE #c :");
}

TEST_F(Ircv3Test, ChatHistoryOfANickIsAnEmptyBatch) {
  ClientId alice = Connect("alice", "draft/chathistory batch");
  Line(alice, "CHATHISTORY LATEST bob * 5");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test BATCH +history1 chathistory bob",
                                                   ":irc.test BATCH -history1"}));
}

TEST_F(Ircv3Test, ChatHistoryTargetsListsJoinedChannelsWithMessagesInTheWindow) {
  StoreTenMessages();
  backend_.history["d"].push_back(Chat("d1", "in d", "dave", kNodeA, 50, kT0 + 3'500));
  backend_.history["e"].push_back(Chat("e1", "too late", "dave", kNodeA, 51, kT0 + 60'000));
  ClientId alice = Connect("alice", "draft/chathistory batch");
  Join(alice, "#c");
  Join(alice, "#d");
  Join(alice, "#e");
  Take(alice);
  Line(alice,
       "CHATHISTORY TARGETS timestamp=2024-05-01T12:20:05.000Z "
       "timestamp=2024-05-01T12:20:00.000Z 10");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             ":irc.test BATCH +targets1 draft/chathistory-targets",
                             "@batch=targets1 :irc.test CHATHISTORY TARGETS #d "
                             "2024-05-01T12:20:03.500Z",
                             "@batch=targets1 :irc.test CHATHISTORY TARGETS #c "
                             "2024-05-01T12:20:05.000Z",
                             ":irc.test BATCH -targets1",
                         }));
  Line(alice,
       "CHATHISTORY TARGETS timestamp=2024-01-01T00:00:00.000Z "
       "timestamp=2024-01-02T00:00:00.000Z 10");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             ":irc.test BATCH +targets2 draft/chathistory-targets",
                             ":irc.test BATCH -targets2",
                         }));
}

TEST_F(Ircv3Test, LabeledChatHistoryNestsItsBatch) {
  StoreTenMessages();
  ClientId alice = Connect("alice", "draft/chathistory batch labeled-response");
  Line(alice, "@label=h CHATHISTORY LATEST #c * 1");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{
                "@label=h :irc.test BATCH +L2 labeled-response",
                "@batch=L2 :irc.test BATCH +history1 chathistory #c",
                "@batch=history1 :dave!dave@a1b2c3d4.lattice PRIVMSG #c :text 10",
                "@batch=L2 :irc.test BATCH -history1",
                ":irc.test BATCH -L2",
            }));
}

// ---- Pure helpers -----------------------------------------------------------------------------

TEST(ChatHistoryParse, ServerTime) {
  uint64_t ms = 0;
  ASSERT_TRUE(ParseServerTime("2024-05-01T12:34:56.789Z", &ms));
  EXPECT_EQ(ms, 1714566896789u);
  ASSERT_TRUE(ParseServerTime("1970-01-01T00:00:00Z", &ms));
  EXPECT_EQ(ms, 0u);
  ASSERT_TRUE(ParseServerTime("2000-03-01T00:00:00.5Z", &ms));
  EXPECT_EQ(ms, 951868800500u);
  EXPECT_FALSE(ParseServerTime("2024-05-01 12:34:56Z", &ms));
  EXPECT_FALSE(ParseServerTime("2024-13-01T12:34:56Z", &ms));
  EXPECT_FALSE(ParseServerTime("2024-05-01T12:34:56", &ms));
}

TEST(MessageTags, WithTagAddsToRenderedLines) {
  EXPECT_EQ(WithTag(":a PING x\r\n", "label", "a b"), "@label=a\\sb :a PING x\r\n");
  EXPECT_EQ(WithTag("@time=1 :a PING x\r\n", "batch", "L1"), "@batch=L1;time=1 :a PING x\r\n");
}

}  // namespace
}  // namespace lattice::irc
