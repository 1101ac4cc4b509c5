// The IRC server's behaviour, client lines in and client lines out, with a hand-driven chat
// backend: registration and numerics, the delivery model (a posted message is delivered when
// the kernel answers, and its watch event is not shown again), replies in the order of the
// commands, history playback, users of other nodes and their nicks, topics, timeouts.
#include "src/server.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

#include "fakes.h"
#include "src/limits.h"

namespace lattice::irc {
namespace {

using testing::FakeBackend;
using testing::FakeTransport;

const std::string kSelf = "5e1f5e1f" + std::string(56, '0');
const std::string kNodeA = "a1b2c3d4" + std::string(56, '1');
const std::string kNodeB = "b5b6b7b8" + std::string(56, '2');

bool HasLine(const std::vector<std::string>& lines, const std::string& wanted) {
  return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

// The numeric of a server line (":irc.test 433 ..."), or "".
std::string CodeOf(const std::string& line) {
  if (line.rfind(":irc.test ", 0) != 0 || line.size() < 13) return "";
  return line.substr(10, 3);
}

std::vector<std::string> Codes(const std::vector<std::string>& lines) {
  std::vector<std::string> codes;
  for (const auto& line : lines) {
    std::string code = CodeOf(line);
    if (!code.empty() && std::isdigit(static_cast<unsigned char>(code[0]))) codes.push_back(code);
  }
  return codes;
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() { Restart(ServerOptions{}); }

  void Restart(ServerOptions options) {
    options.server_name = "irc.test";
    options.store = "chat1";
    options.node_id = kSelf;
    options.wall_clock_ms = [this] { return wall_ms_; };
    server_ = std::make_unique<IrcServer>(options, transport_, backend_);
  }

  ClientId Open() {
    ClientId id = next_id_++;
    server_->OnConnect(id, now_ms_);
    return id;
  }

  // A registered client; `caps` are requested during registration.
  ClientId Connect(const std::string& nick, const std::string& caps = "") {
    ClientId id = Open();
    if (!caps.empty()) {
      Line(id, "CAP LS 302");
      Line(id, "CAP REQ :" + caps);
    }
    Line(id, "NICK " + nick);
    Line(id, "USER " + nick + " 0 * :" + nick + " Realname");
    if (!caps.empty()) Line(id, "CAP END");
    auto codes = Codes(Take(id));
    EXPECT_TRUE(!codes.empty() && codes.front() == "001") << nick;
    return id;
  }

  void Line(ClientId id, const std::string& text) { server_->OnLine(id, text, now_ms_); }
  std::vector<std::string> Take(ClientId id) { return transport_.Take(id); }

  // JOIN, answered at once with `snapshot`.
  void Join(ClientId id, const std::string& channel, ChannelSnapshot snapshot = {}) {
    Line(id, "JOIN " + channel);
    ASSERT_FALSE(backend_.fetches.empty());
    backend_.AnswerFetch(std::move(snapshot));
  }

  static v1::ChatMessage Chat(const std::string& hash, const std::string& channel,
                              const std::string& text, const std::string& sender,
                              const std::string& author, uint64_t cursor,
                              uint64_t wall_ms = 1714566896789) {
    v1::ChatMessage m;
    m.set_hash(hash);
    m.set_channel(channel);
    m.set_kind("post");
    m.set_text(text);
    m.set_sender(sender);
    m.set_author(author);
    m.set_cursor(cursor);
    m.mutable_hlc()->set_wall_ms(wall_ms);
    return m;
  }

  void Watch(v1::ChatMessage m) { server_->OnChatMessage(std::move(m), now_ms_); }

  FakeTransport transport_;
  FakeBackend backend_;
  std::unique_ptr<IrcServer> server_;
  ClientId next_id_ = 1;
  int64_t now_ms_ = 1'000'000;
  uint64_t wall_ms_ = 1'700'000'000'000;
};

// ---- Registration and numerics -------------------------------------------------------------

TEST_F(ServerTest, RegistrationSends001To005ThenNoMotd) {
  ClientId id = Open();
  Line(id, "NICK alice");
  EXPECT_TRUE(Take(id).empty());
  Line(id, "USER alice 0 * :Alice Liddell");
  auto lines = Take(id);
  auto codes = Codes(lines);
  ASSERT_GE(codes.size(), 7u);
  EXPECT_EQ(std::vector<std::string>(codes.begin(), codes.begin() + 5),
            (std::vector<std::string>{"001", "002", "003", "004", "005"}));
  EXPECT_EQ(codes.back(), "422");
  EXPECT_EQ(lines[0],
            ":irc.test 001 alice :Welcome to the Lattice IRC gateway, "
            "alice!alice@5e1f5e1f.lattice");
  bool chantypes = false;
  for (const auto& line : lines) {
    if (CodeOf(line) == "005" && line.find("CHANTYPES=#") != std::string::npos) chantypes = true;
  }
  EXPECT_TRUE(chantypes);
}

TEST_F(ServerTest, LusersCountsRegisteredClientsAndTheMost) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Open();  // not registered: an unknown connection
  server_->OnDisconnect(bob, "Quit: bye");
  Line(alice, "LUSERS");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{
                ":irc.test 251 alice :There are 1 users and 0 invisible on 1 servers",
                ":irc.test 253 alice 1 :unknown connection(s)",
                ":irc.test 254 alice 0 :channels formed",
                ":irc.test 255 alice :I have 1 clients and 0 servers",
                ":irc.test 265 alice 1 2 :Current local users 1, max 2",
                ":irc.test 266 alice 1 1 :Current global users 1, max 1"}));
}

TEST_F(ServerTest, MotdWhenConfigured) {
  ServerOptions options;
  options.motd = {"Welcome to the mesh"};
  Restart(options);
  ClientId id = Open();
  Line(id, "NICK a");
  Line(id, "USER a 0 * :A");
  auto codes = Codes(Take(id));
  EXPECT_EQ(std::vector<std::string>(codes.end() - 3, codes.end()),
            (std::vector<std::string>{"375", "372", "376"}));
}

TEST_F(ServerTest, CommandsBeforeRegistrationGet451ButPingWorks) {
  ClientId id = Open();
  Line(id, "JOIN #c");
  Line(id, "PRIVMSG #c :hi");
  EXPECT_EQ(Codes(Take(id)), (std::vector<std::string>{"451", "451"}));
  Line(id, "PING :abc");
  EXPECT_EQ(Take(id), (std::vector<std::string>{":irc.test PONG irc.test :abc"}));
  EXPECT_TRUE(backend_.fetches.empty());
}

TEST_F(ServerTest, NickErrors) {
  ClientId alice = Connect("alice");
  ClientId id = Open();
  Line(id, "NICK");
  Line(id, "NICK 9lives");
  Line(id, "NICK ALICE");
  Line(id, "NICK bob|a1b2c3d4");
  EXPECT_EQ(Codes(Take(id)), (std::vector<std::string>{"431", "432", "433", "432"}));
  Line(alice, "NICK Alice");  // a case change of one's own nick is fine
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice NICK Alice"}));
}

TEST_F(ServerTest, ReregisteringGets462) {
  ClientId id = Connect("alice");
  Line(id, "USER again 0 * :x");
  Line(id, "PASS late");
  EXPECT_EQ(Codes(Take(id)), (std::vector<std::string>{"462", "462"}));
}

TEST_F(ServerTest, WrongPasswordGets464AndIsClosed) {
  ServerOptions options;
  options.password = "s3cret";
  Restart(options);
  ClientId bad = Open();
  Line(bad, "PASS nope");
  Line(bad, "NICK a");
  Line(bad, "USER a 0 * :A");
  EXPECT_EQ(Codes(Take(bad)), (std::vector<std::string>{"464"}));
  EXPECT_EQ(transport_.closed[bad], "Bad password");

  ClientId good = Open();
  Line(good, "PASS s3cret");
  Line(good, "NICK b");
  Line(good, "USER b 0 * :B");
  EXPECT_EQ(Codes(Take(good)).front(), "001");
  EXPECT_EQ(transport_.closed.count(good), 0u);
}

TEST_F(ServerTest, CapNegotiationHoldsRegistrationUntilCapEnd) {
  ClientId id = Open();
  Line(id, "CAP LS 302");
  EXPECT_EQ(Take(id), (std::vector<std::string>{
                          ":irc.test CAP * LS :server-time message-tags echo-message batch "
                          "labeled-response draft/chathistory multi-prefix userhost-in-names "
                          "away-notify extended-monitor"}));
  Line(id, "NICK alice");
  Line(id, "USER alice 0 * :A");
  EXPECT_TRUE(Take(id).empty());
  Line(id, "CAP REQ :server-time sasl");
  EXPECT_EQ(Take(id), (std::vector<std::string>{":irc.test CAP alice NAK :server-time sasl"}));
  Line(id, "CAP REQ :server-time echo-message");
  EXPECT_EQ(Take(id),
            (std::vector<std::string>{":irc.test CAP alice ACK :server-time echo-message"}));
  Line(id, "CAP LIST");
  EXPECT_EQ(Take(id),
            (std::vector<std::string>{":irc.test CAP alice LIST :server-time echo-message"}));
  Line(id, "CAP END");
  EXPECT_EQ(Codes(Take(id)).front(), "001");
  Line(id, "CAP BOGUS");
  EXPECT_EQ(Codes(Take(id)), (std::vector<std::string>{"410"}));
}

TEST_F(ServerTest, ErrorNumericsForBadCommands) {
  ClientId id = Connect("alice");
  Line(id, "FROB x");
  Line(id, "JOIN");
  Line(id, "PRIVMSG");
  Line(id, "PRIVMSG #c");
  Line(id, "PRIVMSG #c :not joined");
  Line(id, "PRIVMSG nobody :hi");
  Line(id, "JOIN nochan");
  Line(id, "PART #c");
  Line(id, "TOPIC");
  Line(id, "MODE #nowhere");
  // No member here: the store is asked, and it never held the channel.
  ASSERT_EQ(backend_.fetches.size(), 1u);
  backend_.AnswerFetch(ChannelSnapshot{});
  Line(id, "WHOIS ghost");
  Line(id, "PING");
  Line(id, "PRIVMSG a,b,c,d,e :too many");
  EXPECT_EQ(Codes(Take(id)),
            (std::vector<std::string>{"421", "461", "411", "412", "404", "401", "403", "442", "461",
                                      "403", "401", "318", "409", "407"}));
  // No automatic replies to NOTICE, errors included.
  Line(id, "NOTICE nobody :hi");
  EXPECT_TRUE(Take(id).empty());
}

TEST_F(ServerTest, MalformedAndOverlongLines) {
  ClientId id = Connect("alice");
  Line(id, "BAD-COMMAND x");
  Line(id, "PRIVMSG #c :" + std::string(600, 'x'));
  server_->OnLineTooLong(id);
  Line(id, "");
  EXPECT_EQ(Codes(Take(id)), (std::vector<std::string>{"400", "417", "417"}));
}

// ---- The delivery model ------------------------------------------------------------------------

TEST_F(ServerTest, APostIsDeliveredWhenAcceptedAndItsWatchEventIsNotShownAgain) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  ClientId carol = Connect("carol", "echo-message");
  Join(alice, "#c");
  Join(bob, "#C");  // the same channel
  Join(carol, "#c");
  Take(alice), Take(bob), Take(carol);

  Line(alice, "PRIVMSG #c :hello");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].kind, "post");
  EXPECT_EQ(backend_.writes[0].channel, "c");
  EXPECT_EQ(backend_.writes[0].sender, "alice");
  // Everybody here sees it at once, before the kernel answers, as a relay would show it.
  const std::string expected = ":alice!alice@5e1f5e1f.lattice PRIVMSG #c :hello";
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));
  EXPECT_EQ(Take(carol), (std::vector<std::string>{expected}));
  EXPECT_TRUE(Take(alice).empty());  // no echo-message
  // Posted with the msgid it was shown with, and the time.
  ASSERT_EQ(backend_.posts.size(), 1u);
  const std::string msgid = backend_.posts[0].msgid();
  EXPECT_EQ(msgid, "gateway.1");
  EXPECT_EQ(backend_.posts[0].time_ms(), wall_ms_);
  backend_.AnswerWrite("h1");
  EXPECT_TRUE(Take(bob).empty());
  // Its watch event is the same message, known by its msgid: not shown again.
  auto event = Chat("h1", "c", "hello", "alice", kSelf, 7);
  event.set_msgid(msgid);
  Watch(event);
  EXPECT_TRUE(Take(bob).empty());
  EXPECT_TRUE(Take(carol).empty());

  // Carol asked for echo-message and sees her own line back, at once too.
  Line(carol,
       "PRIVMSG #c :\x01"
       "ACTION waves\x01");
  EXPECT_TRUE(backend_.writes[0].action);
  EXPECT_EQ(backend_.writes[0].text, "waves");
  EXPECT_EQ(Take(carol), (std::vector<std::string>{":carol!carol@5e1f5e1f.lattice PRIVMSG #c :\x01"
                                                   "ACTION waves\x01"}));
  EXPECT_EQ(Take(alice).size(), 1u);
  backend_.AnswerWrite("h2");
  auto action = Chat("h2", "c", "waves", "carol", kSelf, 8);
  action.set_action(true);
  action.set_msgid(backend_.posts[1].msgid());
  Watch(action);
  EXPECT_TRUE(Take(carol).empty());
  EXPECT_TRUE(Take(alice).empty());
}

TEST_F(ServerTest, EchoAndCopiesOfAPostCarryTheMsgidAndTimeItIsStoredWith) {
  ClientId alice = Connect("alice", "echo-message message-tags server-time");
  ClientId bob = Connect("bob", "message-tags server-time");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(alice, "PRIVMSG #c :tagged");
  auto mine = Take(alice);
  auto theirs = Take(bob);
  ASSERT_EQ(mine.size(), 1u);
  ASSERT_EQ(theirs.size(), 1u);
  ASSERT_EQ(backend_.posts.size(), 1u);
  EXPECT_NE(mine[0].find("msgid=" + backend_.posts[0].msgid()), std::string::npos) << mine[0];
  EXPECT_NE(mine[0].find("time=2023-11-14T22:13:20.000Z"), std::string::npos) << mine[0];
  EXPECT_EQ(mine[0], theirs[0]);
  backend_.AnswerWrite(std::string(64, 'a'));
  EXPECT_TRUE(Take(alice).empty());

  // Another gateway's post, from the watch: the msgid and time it was shown with there.
  auto remote = Chat(std::string(64, 'b'), "c", "from afar", "dave", kNodeA, 9, wall_ms_ + 50);
  remote.set_msgid("0123456789abcdef.7");
  remote.set_time_ms(wall_ms_ + 20);
  Watch(remote);
  auto lines = Take(bob);
  ASSERT_EQ(lines.size(), 2u);  // dave's JOIN, then the line
  EXPECT_NE(lines[1].find("msgid=0123456789abcdef.7"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("time=2023-11-14T22:13:20.020Z"), std::string::npos) << lines[1];
}

TEST_F(ServerTest, AnEventOfOurOwnPostIsKnownByItsMsgidEvenBeforeItsAnswer) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);

  Line(alice, "PRIVMSG #c :mine");
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c :mine"}));
  // The watch is faster than the answer to Post: nothing waits for it.
  auto own = Chat("h1", "c", "mine", "alice", kSelf, 7);
  own.set_msgid(backend_.posts[0].msgid());
  Watch(own);
  Watch(Chat("h2", "c", "from afar", "dave", kNodeA, 8));
  EXPECT_EQ(server_->held_event_count(), 0u);
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":dave!dave@a1b2c3d4.lattice JOIN #c",
                                      ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :from afar"}));
  backend_.AnswerWrite("h1");
  EXPECT_TRUE(Take(bob).empty());
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{":dave!dave@a1b2c3d4.lattice JOIN #c",
                                      ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :from afar"}));
}

TEST_F(ServerTest, AnEventOfOurOwnTopicChangeThatArrivesBeforeItsAnswerWaitsForIt) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);

  // A topic change is known by the hash the kernel answers with: a message of this node that
  // arrives before that answer may be it, so it waits, and what follows it too.
  Line(alice, "TOPIC #c :new topic");
  Watch(Chat("hx", "c", "from lattice-ctl", "ops", kSelf, 7));
  Watch(Chat("h2", "c", "from afar", "dave", kNodeA, 8));
  EXPECT_TRUE(Take(bob).empty());
  EXPECT_EQ(server_->held_event_count(), 2u);
  backend_.AnswerWrite("t1");
  EXPECT_EQ(server_->held_event_count(), 0u);
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice TOPIC #c :new topic",
                                      ":ops!ops@5e1f5e1f.lattice JOIN #c",
                                      ":ops!ops@5e1f5e1f.lattice PRIVMSG #c :from lattice-ctl",
                                      ":dave!dave@a1b2c3d4.lattice JOIN #c",
                                      ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :from afar"}));
}

TEST_F(ServerTest, AMessageOfThisNodeFromAnotherToolWaitsOnlyForWritesWithoutAMsgid) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  // Only a post is on its way, known by its msgid: another tool's message goes out at once.
  Line(alice, "PRIVMSG #c :mine");
  Take(bob);
  Watch(Chat("hx", "c", "from lattice-ctl", "ops", kSelf, 7));
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":ops!ops@5e1f5e1f.lattice JOIN #c",
                                      ":ops!ops@5e1f5e1f.lattice PRIVMSG #c :from lattice-ctl"}));
  backend_.AnswerWrite("h1");
  // A topic change on its way: the next one waits for its answer.
  Line(bob, "TOPIC #c :t");
  Watch(Chat("hy", "c", "again", "ops", kSelf, 8));
  EXPECT_TRUE(Take(alice).size() == 2u);  // ops' JOIN and line, before the TOPIC
  backend_.AnswerWrite("t1");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice TOPIC #c :t",
                                                   ":ops!ops@5e1f5e1f.lattice PRIVMSG #c :again"}));
}

TEST_F(ServerTest, PostsAreShownInTheOrderAcceptedWhateverOrderTheKernelAnswers) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  ClientId carol = Connect("carol");
  Join(alice, "#c");
  Join(bob, "#c");
  Join(carol, "#c");
  Take(alice), Take(bob), Take(carol);
  Line(alice, "PRIVMSG #c :from alice");
  Line(bob, "PRIVMSG #c :from bob");
  ASSERT_EQ(backend_.writes.size(), 2u);
  EXPECT_NE(backend_.writes[0].order, backend_.writes[1].order);  // one ordering key each
  EXPECT_NE(backend_.posts[0].msgid(), backend_.posts[1].msgid());
  EXPECT_EQ(Take(carol),
            (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c :from alice",
                                      ":bob!bob@5e1f5e1f.lattice PRIVMSG #c :from bob"}));
  // Bob's write is applied and answered first, while alice's is still on its way.
  auto from_bob = Chat("hb", "c", "from bob", "bob", kSelf, 7);
  from_bob.set_msgid(backend_.posts[1].msgid());
  Watch(from_bob);
  backend_.AnswerWrite("hb", absl::OkStatus(), /*index=*/1);
  backend_.AnswerWrite("ha");
  auto from_alice = Chat("ha", "c", "from alice", "alice", kSelf, 8);
  from_alice.set_msgid(backend_.posts[0].msgid());
  Watch(from_alice);
  EXPECT_TRUE(Take(carol).empty());
  EXPECT_EQ(Take(alice).size(), 1u);  // bob's; not her own
}

TEST_F(ServerTest, AFailedPostIsReportedTo404AfterItWasShown) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(alice, "PRIVMSG #c :x");
  EXPECT_EQ(Take(bob).size(), 1u);
  backend_.AnswerWrite("", absl::PermissionDeniedError("token lacks the write right"));
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            ":irc.test 404 alice #c :Message shown here but not stored: token lacks the write right");
  EXPECT_TRUE(Take(bob).empty());
  Line(alice, "TOPIC #c :y");
  backend_.AnswerWrite("", absl::PermissionDeniedError("token lacks the write right"));
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"400"}));
  EXPECT_TRUE(Take(bob).empty());
}

// ---- Replies in the order of the commands -----------------------------------------------------

// The server line's command or numeric ("PONG", "366"), or "".
std::string CommandOf(const std::string& line) {
  size_t start = line[0] == '@' ? line.find(' ') + 1 : 0;
  if (line[start] == ':') start = line.find(' ', start) + 1;
  return line.substr(start, line.find(' ', start) - start);
}

std::vector<std::string> Commands(const std::vector<std::string>& lines) {
  std::vector<std::string> commands;
  for (const auto& line : lines) commands.push_back(CommandOf(line));
  return commands;
}

TEST_F(ServerTest, LinesAfterAJoinWaitForItsTopicAndHistory) {
  ClientId alice = Connect("alice");
  Line(alice, "JOIN #a");
  Line(alice, "PING x");
  Line(alice, "NAMES #a");
  EXPECT_TRUE(Take(alice).empty());  // the PONG waits for the JOIN
  backend_.AnswerFetch({});
  EXPECT_EQ(Commands(Take(alice)),
            (std::vector<std::string>{"JOIN", "353", "366", "PONG", "353", "366"}));
}

TEST_F(ServerTest, LinesAfterATopicQueryOrListWaitForTheKernel) {
  ClientId alice = Connect("alice");
  Join(alice, "#a");
  Take(alice);
  // The fake answers these at once; what matters is that nothing overtakes them.
  backend_.topics["far"].set_set(true);
  backend_.topics["far"].set_text("far away");
  Line(alice, "TOPIC #far");
  Line(alice, "PING y");
  Line(alice, "LIST #a");
  Line(alice, "PING z");
  EXPECT_EQ(Commands(Take(alice)),
            (std::vector<std::string>{"332", "333", "PONG", "321", "322", "323", "PONG"}));
}

TEST_F(ServerTest, APostIsShownAtOnceAndTheSendersNextLineWaitsForItsAnswer) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(alice, "PRIVMSG #c :one");
  Line(alice, "PRIVMSG #c :two");
  Line(alice, "PING after");
  // One write at a time per client, in order, so the store keeps them in the order sent;
  // the rest waits, unanswered.
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c :one"}));
  EXPECT_TRUE(Take(alice).empty());
  EXPECT_EQ(backend_.AnswerWrite("h1").text, "one");
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG #c :two"}));
  EXPECT_TRUE(Take(alice).empty());
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.AnswerWrite("h2").text, "two");
  EXPECT_TRUE(Take(bob).empty());
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test PONG irc.test :after"}));
}

// The kernel answers once the post is applied, before its fsync (server.h, Delivery model).
TEST_F(ServerTest, AChannelMessageIsPostedToBeAnsweredOnceApplied) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Line(alice, "PRIVMSG #c :hi");
  Line(alice, "NOTICE #c :note");
  backend_.AnswerWrite("h1");
  ASSERT_EQ(backend_.posts.size(), 2u);
  EXPECT_EQ(backend_.posts[0].durability(), v1::DURABILITY_APPLIED);
  EXPECT_EQ(backend_.posts[1].durability(), v1::DURABILITY_APPLIED);
}

TEST_F(ServerTest, ATopicChangeIsShownBeforeTheSettersNextReply) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Line(alice, "TOPIC #c :new");
  Line(alice, "PING t");
  EXPECT_TRUE(Take(alice).empty());
  backend_.AnswerWrite("t1");
  EXPECT_EQ(Commands(Take(alice)), (std::vector<std::string>{"TOPIC", "PONG"}));
}

TEST_F(ServerTest, InputHeldBeyondTheBoundDisconnectsWithAReason) {
  ServerOptions options;
  options.max_held_input_bytes = 200;
  Restart(options);
  ClientId alice = Connect("alice");
  Line(alice, "JOIN #a");
  for (int i = 0; i < 9; ++i) Line(alice, "PRIVMSG #a :0123456789");  // 9 x 22 bytes
  EXPECT_EQ(transport_.closed.count(alice), 0u);
  Line(alice, "PRIVMSG #a :0123456789");
  ASSERT_EQ(transport_.closed.count(alice), 1u);
  EXPECT_NE(transport_.closed[alice].find("Excess Flood"), std::string::npos);
}

TEST_F(ServerTest, TheTransportIsToldToHoldInputWhileTheKernelIsAsked) {
  ClientId alice = Connect("alice");
  Line(alice, "JOIN #a");
  EXPECT_EQ(transport_.held, (std::vector<std::pair<ClientId, bool>>{{alice, true}}));
  backend_.AnswerFetch({});
  EXPECT_EQ(transport_.held,
            (std::vector<std::pair<ClientId, bool>>{{alice, true}, {alice, false}}));
}

TEST_F(ServerTest, ManyPipelinedLinesAreAllAnsweredInOrder) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  // A bot's paste: PRIVMSGs and PINGs, none waiting for the previous answer.
  for (int i = 0; i < 1000; ++i) {
    Line(alice, i % 2 == 0 ? "PRIVMSG #c :line " + std::to_string(i)
                           : "PING " + std::to_string(i));
  }
  std::vector<std::string> pongs;
  int written = 0;
  while (!backend_.writes.empty()) {
    EXPECT_EQ(backend_.writes.size(), 1u);
    EXPECT_EQ(backend_.AnswerWrite("h" + std::to_string(written)).text,
              "line " + std::to_string(2 * written));
    ++written;
    for (const auto& line : Take(alice)) pongs.push_back(line);
  }
  EXPECT_EQ(written, 500);
  ASSERT_EQ(pongs.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(pongs[i], ":irc.test PONG irc.test :" + std::to_string(2 * i + 1));
  }
}

TEST_F(ServerTest, StoredTextCannotInjectCommands) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Watch(Chat("h1", "c", "line one\r\nQUIT :pwned\nline three", "eve", kNodeA, 3));
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 4u);  // JOIN + three PRIVMSGs
  EXPECT_EQ(lines[2], ":eve!eve@a1b2c3d4.lattice PRIVMSG #c :QUIT :pwned");
}

TEST_F(ServerTest, LongStoredTextIsSplitWithin512Bytes) {
  ClientId alice = Connect("alice", "server-time message-tags");
  Join(alice, "#c");
  Take(alice);
  Watch(Chat("h1", "c", std::string(3000, 'y'), "eve", kNodeA, 3));
  auto lines = Take(alice);
  ASSERT_GE(lines.size(), 8u);
  size_t total = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i];
    size_t space = line.find(' ');
    std::string without_tags = line.substr(space + 1);
    EXPECT_LE(without_tags.size() + 2, limits::kMaxLineBytes);
    total += std::count(line.begin(), line.end(), 'y');
  }
  EXPECT_EQ(total, 3000u);
}

TEST_F(ServerTest, InvalidUtf8TextIsReplacedWithAWarnAndNamesAreRefusedWithAFail) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Line(alice, "PRIVMSG #c :caf\xe9");
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind(":irc.test WARN PRIVMSG INVALID_UTF8 :", 0), 0u) << lines[0];
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.AnswerWrite("h1").text, "caf\xEF\xBF\xBD");
  Line(alice, "PRIVMSG #c :\xff\xfe");
  EXPECT_EQ(Commands(Take(alice)), (std::vector<std::string>{"WARN"}));
  EXPECT_EQ(backend_.AnswerWrite("h2").text, "\xEF\xBF\xBD\xEF\xBF\xBD");
  // A channel name cannot be repaired into the one meant.
  Line(alice, "JOIN #caf\xe9");
  lines = Take(alice);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind(":irc.test FAIL JOIN INVALID_UTF8 :", 0), 0u) << lines[0];
  EXPECT_TRUE(backend_.fetches.empty());
}

TEST_F(ServerTest, OverlongLinesAndClientTagsGet417) {
  ClientId alice = Connect("alice");
  Line(alice, "PING " + std::string(505, 'x'));  // 510 bytes + CR LF: the limit
  EXPECT_EQ(Commands(Take(alice)), (std::vector<std::string>{"PONG"}));
  Line(alice, "PING " + std::string(506, 'x'));
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"417"}));
  Line(alice, "@+a=" + std::string(4091, 'v') + " PING ok");  // 4094 bytes of tag data
  EXPECT_EQ(Commands(Take(alice)), (std::vector<std::string>{"PONG"}));
  Line(alice, "@+a=" + std::string(4092, 'v') + " PING no");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"417"}));
}

TEST_F(ServerTest, UserWithAnEmptyRealnameGets461) {
  ClientId id = Open();
  Line(id, "NICK dave");
  Line(id, "USER dave 0 * :");
  EXPECT_EQ(Codes(Take(id)), (std::vector<std::string>{"461"}));
  Line(id, "USER dave 0 * :Dave");
  EXPECT_EQ(Codes(Take(id)).front(), "001");
}

TEST_F(ServerTest, PrivateMessagesBetweenLocalUsers) {
  ClientId alice = Connect("alice", "echo-message");
  ClientId bob = Connect("bob");
  Line(bob, "AWAY :lunch");
  Take(bob);
  Line(alice, "PRIVMSG Bob :psst");
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":alice!alice@5e1f5e1f.lattice PRIVMSG bob :psst"}));
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], ":alice!alice@5e1f5e1f.lattice PRIVMSG bob :psst");
  EXPECT_EQ(lines[1], ":irc.test 301 alice bob :lunch");
  EXPECT_TRUE(backend_.writes.empty());  // private messages are not stored
}

// ---- JOIN and history ---------------------------------------------------------------------------

TEST_F(ServerTest, JoinPlaysHistoryInABatchWithOriginalTimes) {
  ClientId alice = Connect("alice", "server-time batch message-tags");
  ChannelSnapshot snapshot;
  snapshot.topic.set_set(true);
  snapshot.topic.set_text("Plans");
  snapshot.topic.set_sender("dave");
  snapshot.topic.set_author(kNodeA);
  snapshot.topic.mutable_hlc()->set_wall_ms(1714566000000);
  snapshot.history = {Chat("h1", "c", "first", "dave", kNodeA, 3, 1714566896789),
                      Chat("h2", "c", "second", "alice", kSelf, 4, 1714566897000)};
  snapshot.horizon = 4;
  Line(alice, "JOIN #c");
  ASSERT_EQ(backend_.fetches.size(), 1u);
  EXPECT_EQ(backend_.fetches[0].channel, "c");
  EXPECT_EQ(backend_.fetches[0].limit, 50u);
  EXPECT_TRUE(Take(alice).empty());  // the JOIN completes with the kernel's answer
  backend_.AnswerFetch(snapshot);
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[0], "@time=2023-11-14T22:13:20.000Z :alice!alice@5e1f5e1f.lattice JOIN #c");
  EXPECT_EQ(lines[1], ":irc.test 332 alice #c :Plans");
  EXPECT_EQ(lines[2], ":irc.test 333 alice #c dave :1714566000");
  // dave of node A spoke recently (his message is even ahead of this clock): he is present.
  EXPECT_EQ(lines[3], ":irc.test 353 alice = #c :@alice dave");
  EXPECT_EQ(lines[4], ":irc.test 366 alice #c :End of /NAMES list.");
  EXPECT_EQ(lines[5], ":irc.test BATCH +history1 chathistory #c");
  EXPECT_EQ(lines[6],
            "@batch=history1;time=2024-05-01T12:34:56.789Z;msgid=h1 "
            ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :first");
  EXPECT_EQ(lines[7],
            "@batch=history1;time=2024-05-01T12:34:57.000Z;msgid=h2 "
            ":alice!alice@5e1f5e1f.lattice PRIVMSG #c :second");
  EXPECT_EQ(lines[8], ":irc.test BATCH -history1");
}

TEST_F(ServerTest, HistoryWithoutCapabilitiesIsPlainLines) {
  ClientId alice = Connect("alice");
  ChannelSnapshot snapshot;
  snapshot.history = {Chat("h1", "c", "first", "dave", kNodeA, 3)};
  snapshot.horizon = 3;
  Join(alice, "#c", snapshot);
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :first");
}

TEST_F(ServerTest, MessagesDuringAJoinAreHeldAndNeverShownTwice) {
  ClientId alice = Connect("alice");
  Line(alice, "JOIN #c");
  // Arrives while the history is being read, and is part of it.
  Watch(Chat("h1", "c", "one", "dave", kNodeA, 5));
  // Arrives while the history is being read, and is newer.
  Watch(Chat("h2", "c", "two", "dave", kNodeA, 6));
  EXPECT_TRUE(Take(alice).empty());
  ChannelSnapshot snapshot;
  snapshot.history = {Chat("h0", "c", "zero", "dave", kNodeA, 4),
                      Chat("h1", "c", "one", "dave", kNodeA, 5)};
  snapshot.horizon = 5;
  backend_.AnswerFetch(snapshot);
  // A late watch event for a message the history already showed.
  Watch(Chat("h0", "c", "zero", "dave", kNodeA, 4));
  Watch(Chat("h3", "c", "three", "dave", kNodeA, 7));
  std::vector<std::string> texts;
  for (const auto& line : Take(alice)) {
    size_t at = line.find(" PRIVMSG #c :");
    if (at != std::string::npos) texts.push_back(line.substr(at + 13));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"zero", "one", "two", "three"}));
}

TEST_F(ServerTest, JoinWithoutTheKernelStillJoinsAndSaysWhy) {
  ClientId alice = Connect("alice");
  ChannelSnapshot snapshot;
  snapshot.status = absl::UnavailableError("no kernel socket");
  Join(alice, "#c", snapshot);
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("JOIN #c"), std::string::npos);
  EXPECT_NE(lines[3].find("history is not available right now (no kernel socket)"),
            std::string::npos);
}

TEST_F(ServerTest, JoinPartAndQuitAreSeenByTheOthers) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Take(alice);
  Join(bob, "#c");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice JOIN #c"}));
  auto names = Take(bob);
  EXPECT_TRUE(HasLine(names, ":irc.test 353 bob = #c :@alice bob"));
  Line(bob, "PART #c :bye");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice PART #c :bye"}));
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice PART #c :bye"}));
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(bob, "QUIT :gone home");
  EXPECT_EQ(transport_.closed[bob], "Quit: gone home");
  server_->OnDisconnect(bob, "Quit: gone home");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice QUIT :Quit: gone home"}));
  EXPECT_EQ(server_->client_count(), 1u);
}

// ---- Users of other nodes
// ------------------------------------------------------------------------

TEST_F(ServerTest, RemoteSendersJoinWhenTheyFirstSpeakWithTheirNodeInTheHostmask) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Watch(Chat("h1", "c", "hi", "dave", kNodeA, 3));
  Watch(Chat("h2", "c", "again", "dave", kNodeA, 4));
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{":dave!dave@a1b2c3d4.lattice JOIN #c",
                                      ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :hi",
                                      ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :again"}));
  Line(alice, "NAMES #c");
  EXPECT_TRUE(HasLine(Take(alice), ":irc.test 353 alice = #c :@alice dave"));
  Line(alice, "WHOIS dave");
  auto whois = Take(alice);
  EXPECT_TRUE(HasLine(whois, ":irc.test 311 alice dave dave a1b2c3d4.lattice * :dave"));
  EXPECT_TRUE(
      HasLine(whois, ":irc.test 312 alice dave a1b2c3d4.lattice :a user of node " + kNodeA));
  Line(alice, "PRIVMSG dave :private?");
  auto refused = Take(alice);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(CodeOf(refused[0]), "401");
}

TEST_F(ServerTest, TheSameNickOnThreeNodesStaysApart) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Watch(Chat("h1", "c", "from a", "alice", kNodeA, 3));
  Watch(Chat("h2", "c", "from b", "alice", kNodeB, 4));
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             ":alice|a1b2c3d4!alice@a1b2c3d4.lattice JOIN #c",
                             ":alice|a1b2c3d4!alice@a1b2c3d4.lattice PRIVMSG #c :from a",
                             ":alice|b5b6b7b8!alice@b5b6b7b8.lattice JOIN #c",
                             ":alice|b5b6b7b8!alice@b5b6b7b8.lattice PRIVMSG #c :from b"}));
}

TEST_F(ServerTest, ALocalClientTakingARemoteNickRenamesTheRemoteUser) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Watch(Chat("h1", "c", "hi", "carol", kNodeA, 3));
  Take(alice);
  ClientId carol = Connect("carol");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{":carol!carol@a1b2c3d4.lattice NICK carol|a1b2c3d4"}));
  Join(carol, "#c");
  EXPECT_TRUE(HasLine(Take(carol), ":irc.test 353 carol = #c :@alice carol carol|a1b2c3d4"));
  Watch(Chat("h2", "c", "still me", "carol", kNodeA, 4));
  EXPECT_EQ(
      Take(carol),
      (std::vector<std::string>{":carol|a1b2c3d4!carol@a1b2c3d4.lattice PRIVMSG #c :still me"}));
}

TEST_F(ServerTest, QuietRemoteUsersPartAfterTheIdleTime) {
  ServerOptions options;
  options.remote_idle_part_ms = 60'000;
  Restart(options);
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Watch(Chat("h1", "c", "hi", "dave", kNodeA, 3));
  Take(alice);
  now_ms_ += 59'000;
  server_->OnTick(now_ms_);
  Take(alice);  // may include a PING; no PART yet
  now_ms_ += 2'000;
  Line(alice, "PONG x");
  server_->OnTick(now_ms_);
  EXPECT_TRUE(HasLine(Take(alice), ":dave!dave@a1b2c3d4.lattice PART #c :idle"));
}

TEST_F(ServerTest, RecentRemoteSpeakersInTheHistoryAreInNames) {
  ServerOptions options;
  options.remote_idle_part_ms = 60'000;
  Restart(options);
  ClientId alice = Connect("alice");
  ChannelSnapshot snapshot;
  snapshot.history = {Chat("h1", "c", "long ago", "dave", kNodeA, 3, wall_ms_ - 120'000),
                      Chat("h2", "c", "just now", "erin", kNodeA, 4, wall_ms_ - 10'000),
                      Chat("h3", "c", "from a tool here", "zed", kSelf, 5, wall_ms_ - 5'000)};
  snapshot.horizon = 5;
  Join(alice, "#c", snapshot);
  auto lines = Take(alice);
  EXPECT_TRUE(HasLine(lines, ":irc.test 353 alice = #c :@alice erin"));
  int joins = 0;
  for (const auto& line : lines) joins += line.find(" JOIN #c") != std::string::npos ? 1 : 0;
  EXPECT_EQ(joins, 1);  // alice's own: erin is listed, not announced
  // A second client joining: erin is still listed, and alice is not told she joined again.
  ClientId bob = Connect("bob");
  Join(bob, "#c", snapshot);
  EXPECT_TRUE(HasLine(Take(bob), ":irc.test 353 bob = #c :@alice bob erin"));
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice JOIN #c"}));
  // erin's idle time counts from her message, not from the JOIN.
  now_ms_ += 49'000;
  Line(alice, "PONG x");
  Line(bob, "PONG x");
  server_->OnTick(now_ms_);
  EXPECT_TRUE(Take(alice).empty());
  now_ms_ += 2'000;
  server_->OnTick(now_ms_);
  EXPECT_TRUE(HasLine(Take(alice), ":erin!erin@a1b2c3d4.lattice PART #c :idle"));
}

// ---- Topics
// ----------------------------------------------------------------------------------------

TEST_F(ServerTest, TopicIsWrittenToTheStoreAndShownWhenStored) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(alice, "TOPIC #c :Release on Friday");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].kind, "topic");
  EXPECT_EQ(backend_.writes[0].text, "Release on Friday");
  backend_.AnswerWrite("t1");
  const std::string expected = ":alice!alice@5e1f5e1f.lattice TOPIC #c :Release on Friday";
  EXPECT_EQ(Take(alice), (std::vector<std::string>{expected}));  // the setter sees it too
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));
  // The watch event of the change is not shown again; its time is the store's.
  auto change = Chat("t1", "c", "Release on Friday", "alice", kSelf, 9, 1714566000000);
  change.set_kind("topic");
  Watch(change);
  EXPECT_TRUE(Take(alice).empty());
  EXPECT_TRUE(Take(bob).empty());
  Line(bob, "TOPIC #c");
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":irc.test 332 bob #c :Release on Friday",
                                                 ":irc.test 333 bob #c alice :1714566000"}));
  // An older concurrent change from another node loses, as it does in the store.
  auto older = Chat("t0", "c", "stale", "dave", kNodeA, 10, 1714565000000);
  older.set_kind("topic");
  Watch(older);
  EXPECT_TRUE(Take(bob).empty());
  // Setting a topic needs membership.
  ClientId carol = Connect("carol");
  Line(carol, "TOPIC #c :mine");
  EXPECT_EQ(Codes(Take(carol)), (std::vector<std::string>{"442"}));
}

TEST_F(ServerTest, TopicOfAChannelNobodyHereIsInIsAskedFromTheKernel) {
  ClientId alice = Connect("alice");
  backend_.topics["far"].set_set(true);
  backend_.topics["far"].set_text("Remote topic");
  backend_.topics["far"].set_sender("dave");
  backend_.topics["far"].set_author(kNodeA);
  Line(alice, "TOPIC #far");
  auto lines = Take(alice);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], ":irc.test 332 alice #far :Remote topic");
  Line(alice, "TOPIC #empty");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"331"}));
}

TEST_F(ServerTest, ListShowsChannelsWithUsersUnlessAskedOtherwise) {
  ClientId alice = Connect("alice");
  Join(alice, "#here");
  Take(alice);
  v1::ChannelInfo info;
  info.set_name("General");
  info.mutable_topic()->set_set(true);
  info.mutable_topic()->set_text("all hands");
  backend_.channels.push_back(info);
  info.Clear();
  info.set_name("has space");
  backend_.channels.push_back(info);
  Line(alice, "LIST");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 321 alice Channel :Users  Name",
                                                   ":irc.test 322 alice #here 1 :",
                                                   ":irc.test 323 alice :End of /LIST"}));
  // A mask shows every channel of the store, empty ones too.
  Line(alice, "LIST *");
  EXPECT_EQ(
      Take(alice),
      (std::vector<std::string>{
          ":irc.test 321 alice Channel :Users  Name", ":irc.test 322 alice #general 0 :all hands",
          ":irc.test 322 alice #here 1 :", ":irc.test 323 alice :End of /LIST"}));
  auto listed = [&](const std::string& command) {
    Line(alice, command);
    std::vector<std::string> names;
    for (const auto& line : Take(alice)) {
      if (CodeOf(line) == "322") names.push_back(line.substr(line.find('#'), line.find(' ', line.find('#')) - line.find('#')));
    }
    return names;
  };
  EXPECT_EQ(listed("LIST #general"), (std::vector<std::string>{"#general"}));
  EXPECT_EQ(listed("LIST <1"), (std::vector<std::string>{"#general"}));
  EXPECT_EQ(listed("LIST >0"), (std::vector<std::string>{"#here"}));
  EXPECT_EQ(listed("LIST *,!#h*"), (std::vector<std::string>{"#general"}));
  EXPECT_EQ(listed("LIST #g?n*"), (std::vector<std::string>{"#general"}));
}

// ---- Queries
// -----------------------------------------------------------------------------------------

TEST_F(ServerTest, ModeWhoAwayIson) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice), Take(bob);
  Line(alice, "MODE #c");
  Line(alice, "MODE #c b");
  Line(bob, "MODE #c +o bob");  // alice, the first in, is the operator
  Line(alice, "MODE bob +i");
  Line(alice, "MODE alice");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"324", "329", "368", "502", "221"}));
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"482"}));
  Line(alice, "MODE alice +iz");
  auto mode = Take(alice);
  EXPECT_TRUE(HasLine(mode, ":alice!alice@5e1f5e1f.lattice MODE alice :+i"));
  EXPECT_EQ(Codes(mode), (std::vector<std::string>{"501"}));
  Line(bob, "AWAY :brb");
  Line(bob, "AWAY");
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"306", "305"}));
  Line(bob, "AWAY :brb");
  Take(bob);
  Line(alice, "WHO #c");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             ":irc.test 352 alice #c alice 5e1f5e1f.lattice irc.test alice H@ "
                             ":0 alice Realname",
                             ":irc.test 352 alice #c bob 5e1f5e1f.lattice irc.test bob G :0 bob "
                             "Realname",
                             ":irc.test 315 alice #c :End of /WHO list."}));
  Line(alice, "ISON bob nobody ALICE");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 303 alice :bob alice"}));
}

TEST_F(ServerTest, WhoGlobListsTheUsersTheAskerMaySee) {
  ClientId alice = Connect("alice");
  Connect("bob");
  ClientId carol = Connect("carol");
  ClientId dave = Connect("dave");
  Line(carol, "MODE carol +i");
  Line(dave, "MODE dave +i");
  Join(alice, "#c");
  Join(dave, "#c");
  Take(alice);
  // The nick (fifth parameter) of each 352 and the mask of the 315.
  auto listed = [&](const std::string& mask) {
    Line(alice, "WHO " + mask);
    std::vector<std::string> nicks;
    for (const auto& line : Take(alice)) {
      std::vector<std::string> words;
      for (size_t at = 0; at < line.size();) {
        size_t end = std::min(line.find(' ', at), line.size());
        words.push_back(line.substr(at, end - at));
        at = end + 1;
      }
      nicks.push_back(words[1] == "352" ? words[7] : words[1] + " " + words[3]);
    }
    std::sort(nicks.begin(), nicks.end());
    return nicks;
  };
  // carol is invisible and shares no channel with alice; dave is invisible but shares #c.
  EXPECT_EQ(listed("*"), (std::vector<std::string>{"315 *", "alice", "bob", "dave"}));
  EXPECT_EQ(listed("0"), (std::vector<std::string>{"315 0", "alice", "bob", "dave"}));
  EXPECT_EQ(listed("B?B"), (std::vector<std::string>{"315 B?B", "bob"}));
  EXPECT_EQ(listed("*!carol@*"), (std::vector<std::string>{"315 *!carol@*"}));
  EXPECT_EQ(listed("*!dave@*"), (std::vector<std::string>{"315 *!dave@*", "dave"}));
}

// ---- Timers
// ----------------------------------------------------------------------------------------

TEST_F(ServerTest, AClientWaitingForTheKernelIsNotTakenForSilent) {
  ServerOptions options;
  options.ping_interval_ms = 10'000;
  options.ping_timeout_ms = 5'000;
  Restart(options);
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  Take(alice);
  Line(alice, "PRIVMSG #c :while the kernel is away");
  for (int i = 0; i < 10; ++i) {
    now_ms_ += 10'000;
    server_->OnTick(now_ms_);
  }
  EXPECT_TRUE(Take(alice).empty());
  EXPECT_EQ(transport_.closed.count(alice), 0u);
  backend_.AnswerWrite("h1");
  now_ms_ += 10'000;
  server_->OnTick(now_ms_);
  EXPECT_EQ(Take(alice), (std::vector<std::string>{"PING :irc.test"}));
}

TEST_F(ServerTest, IdleClientsArePingedAndDroppedWhenSilent) {
  ServerOptions options;
  options.ping_interval_ms = 10'000;
  options.ping_timeout_ms = 5'000;
  Restart(options);
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  now_ms_ += 10'000;
  server_->OnTick(now_ms_);
  EXPECT_EQ(Take(alice), (std::vector<std::string>{"PING :irc.test"}));
  EXPECT_EQ(Take(bob), (std::vector<std::string>{"PING :irc.test"}));
  now_ms_ += 1'000;
  Line(bob, "PONG :irc.test");
  now_ms_ += 4'000;
  server_->OnTick(now_ms_);
  EXPECT_EQ(transport_.closed[alice], "Ping timeout: 15 seconds");
  EXPECT_EQ(transport_.closed.count(bob), 0u);
}

TEST_F(ServerTest, UnregisteredConnectionsTimeOut) {
  ServerOptions options;
  options.registration_timeout_ms = 30'000;
  Restart(options);
  ClientId lurker = Open();
  Line(lurker, "NICK lurker");
  now_ms_ += 29'000;
  server_->OnTick(now_ms_);
  EXPECT_EQ(transport_.closed.count(lurker), 0u);
  now_ms_ += 1'000;
  server_->OnTick(now_ms_);
  EXPECT_EQ(transport_.closed[lurker], "Registration timed out");
}

// ---- MONITOR ----------------------------------------------------------------------------------

TEST_F(ServerTest, MonitorTellsAsAWatchedNickComesAndGoes) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Line(alice, "MONITOR + bob,carol,Bob");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{
                             ":irc.test 730 alice :bob!bob@5e1f5e1f.lattice,bob!bob@5e1f5e1f.lattice",
                             ":irc.test 731 alice :carol"}));
  ClientId carol = Connect("carol");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 730 alice :carol!carol@5e1f5e1f.lattice"}));
  Line(carol, "NICK carla");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 731 alice :carol"}));
  Line(carol, "NICK CAROL");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 730 alice :CAROL!carol@5e1f5e1f.lattice"}));
  server_->OnDisconnect(bob, "Quit: bye");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 731 alice :bob"}));
  Line(alice, "MONITOR L");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 732 alice :bob,carol",
                                                   ":irc.test 733 alice :End of MONITOR list"}));
  Line(alice, "MONITOR S");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 730 alice :CAROL!carol@5e1f5e1f.lattice",
                                                   ":irc.test 731 alice :bob"}));
  Line(alice, "MONITOR - BOB");
  Line(alice, "MONITOR L");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 732 alice :carol",
                                                   ":irc.test 733 alice :End of MONITOR list"}));
  Line(alice, "MONITOR C");
  server_->OnDisconnect(carol, "Quit: bye");
  Line(alice, "MONITOR L");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 733 alice :End of MONITOR list"}))
      << "a cleared list is told nothing more";
  Line(alice, "MONITOR +");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"461"}));
}

TEST_F(ServerTest, ExtendedMonitorTellsAwayOfMonitoredNicksOnce) {
  ClientId watcher = Connect("watcher", "extended-monitor away-notify");
  ClientId plain = Connect("plain", "away-notify");
  ClientId peer = Connect("peer", "extended-monitor away-notify");
  ClientId bob = Connect("bob");
  Line(watcher, "MONITOR + bob");
  Line(plain, "MONITOR + bob");
  Line(peer, "MONITOR + bob");
  Join(peer, "#c");
  Join(bob, "#c");
  Take(watcher);
  Take(plain);
  Take(peer);
  Line(bob, "AWAY :lunch");
  const std::string away = ":bob!bob@5e1f5e1f.lattice AWAY :lunch";
  EXPECT_EQ(Take(watcher), (std::vector<std::string>{away}));
  EXPECT_TRUE(Take(plain).empty()) << "without extended-monitor, MONITOR tells only 730/731";
  EXPECT_EQ(Take(peer), (std::vector<std::string>{away})) << "once, though both monitoring and sharing #c";
  Line(bob, "AWAY");
  EXPECT_EQ(Take(watcher), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice AWAY"}));
}

TEST_F(ServerTest, MonitorListsAreBoundedAndEndWithTheirClient) {
  ClientId alice = Connect("alice");
  std::string targets;
  for (size_t i = 0; i < limits::kMaxMonitorTargets + 2; ++i) {
    targets += (i == 0 ? "" : ",") + fmt::format("n{}", i);
  }
  Line(alice, "MONITOR + " + targets);
  auto lines = Take(alice);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), fmt::format(":irc.test 734 alice {} n{},n{} :Monitor list is full.",
                                       limits::kMaxMonitorTargets, limits::kMaxMonitorTargets,
                                       limits::kMaxMonitorTargets + 1));
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind(":irc.test 731 alice :", 0), 0u) << lines[i];
    EXPECT_LE(lines[i].size(), 510u);
  }
  Line(alice, "MONITOR + more");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"734"}));
  // The watcher's list goes with it: a later arrival tells nobody and costs nothing.
  server_->OnDisconnect(alice, "Quit: bye");
  ClientId n1 = Connect("n1");
  EXPECT_TRUE(Take(n1).empty());
}

}  // namespace
}  // namespace lattice::irc
