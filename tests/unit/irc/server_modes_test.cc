// Channel operators and modes on the IRC server, with a hand-driven chat backend: the first
// local member is operator, MODE/KICK/INVITE and their errors, the per-gateway modes (o, v,
// b, invitations) applied at once, and the replicated settings (t n s i m k l) written to
// the store and applied when the watch brings them back, from this node or another.
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.h"
#include "src/isupport.h"
#include "src/server.h"

namespace lattice::irc {
namespace {

using testing::FakeBackend;
using testing::FakeTransport;

const std::string kSelf = "5e1f5e1f" + std::string(56, '0');
const std::string kNodeA = "a1b2c3d4" + std::string(56, '1');

bool HasLine(const std::vector<std::string>& lines, const std::string& wanted) {
  return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

std::vector<std::string> Codes(const std::vector<std::string>& lines) {
  std::vector<std::string> codes;
  for (const auto& line : lines) {
    if (line.rfind(":irc.test ", 0) != 0 || line.size() < 13) continue;
    std::string code = line.substr(10, 3);
    if (std::isdigit(static_cast<unsigned char>(code[0]))) codes.push_back(code);
  }
  return codes;
}

class ModesTest : public ::testing::Test {
 protected:
  ModesTest() {
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
    Line(id, "USER " + nick + " 0 * :" + nick + " Realname");
    if (!caps.empty()) Line(id, "CAP END");
    auto codes = Codes(Take(id));
    EXPECT_TRUE(!codes.empty() && codes.front() == "001") << nick;
    return id;
  }

  void Line(ClientId id, const std::string& text) { server_->OnLine(id, text, now_ms_); }
  std::vector<std::string> Take(ClientId id) { return transport_.Take(id); }

  // JOIN (with `args`, e.g. a key), answered at once with `snapshot`; the lines it got.
  std::vector<std::string> Join(ClientId id, const std::string& args,
                                ChannelSnapshot snapshot = {}) {
    Line(id, "JOIN " + args);
    EXPECT_FALSE(backend_.fetches.empty());
    if (!backend_.fetches.empty()) backend_.AnswerFetch(std::move(snapshot));
    return Take(id);
  }

  static v1::ChatMessage Modes(const std::string& hash, const std::string& sender,
                               const std::string& author, uint64_t cursor, uint64_t wall_ms,
                               std::vector<std::tuple<std::string, bool, std::string>> changes) {
    v1::ChatMessage m;
    m.set_hash(hash);
    m.set_channel("c");
    m.set_kind("modes");
    m.set_sender(sender);
    m.set_author(author);
    m.set_cursor(cursor);
    m.mutable_hlc()->set_wall_ms(wall_ms);
    for (const auto& [mode, on, arg] : changes) {
      auto* change = m.add_modes();
      change->set_mode(mode);
      change->set_on(on);
      change->set_arg(arg);
    }
    return m;
  }

  // The change alice (client `who`) asked for is written, answered with `hash`, and comes
  // back on the watch: what the kernel does with a SetModes.
  void StoreModes(const std::string& hash, const std::string& sender, uint64_t cursor,
                  std::vector<std::tuple<std::string, bool, std::string>> changes) {
    ASSERT_FALSE(backend_.writes.empty());
    EXPECT_EQ(backend_.writes.front().kind, "modes");
    backend_.AnswerWrite(hash);
    wall_ms_ += 10;
    server_->OnChatMessage(Modes(hash, sender, kSelf, cursor, wall_ms_, std::move(changes)),
                           now_ms_);
  }

  FakeTransport transport_;
  FakeBackend backend_;
  std::unique_ptr<IrcServer> server_;
  ClientId next_id_ = 1;
  int64_t now_ms_ = 1'000'000;
  uint64_t wall_ms_ = 1'700'000'000'000;
};

const std::string kAlice = ":alice!alice@5e1f5e1f.lattice";

TEST_F(ModesTest, TheFirstLocalMemberIsOperatorInNamesWhoAndWhois) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob", "multi-prefix userhost-in-names");
  auto lines = Join(alice, "#c");
  EXPECT_TRUE(HasLine(lines, ":irc.test 353 alice = #c :@alice"));
  lines = Join(bob, "#c");
  EXPECT_TRUE(HasLine(lines,
                      ":irc.test 353 bob = #c :@alice!alice@5e1f5e1f.lattice "
                      "bob!bob@5e1f5e1f.lattice"));
  Take(alice);
  Line(alice, "MODE #c +v alice");
  EXPECT_EQ(Take(bob), (std::vector<std::string>{kAlice + " MODE #c +v alice"}));
  Line(bob, "NAMES #c");
  EXPECT_TRUE(HasLine(Take(bob),
                      ":irc.test 353 bob = #c :@+alice!alice@5e1f5e1f.lattice "
                      "bob!bob@5e1f5e1f.lattice"));
  Line(alice, "NAMES #c");
  EXPECT_TRUE(HasLine(Take(alice), ":irc.test 353 alice = #c :@alice bob"));
  Line(bob, "WHO #c");
  auto who = Take(bob);
  EXPECT_TRUE(HasLine(who,
                      ":irc.test 352 bob #c alice 5e1f5e1f.lattice irc.test alice H@+ "
                      ":0 alice Realname"));
  EXPECT_TRUE(HasLine(who,
                      ":irc.test 352 bob #c bob 5e1f5e1f.lattice irc.test bob H "
                      ":0 bob Realname"));
  Line(alice, "WHO #c");
  EXPECT_TRUE(HasLine(Take(alice),
                      ":irc.test 352 alice #c alice 5e1f5e1f.lattice irc.test "
                      "alice H@ :0 alice Realname"));
  Line(alice, "WHOIS alice");
  EXPECT_TRUE(HasLine(Take(alice), ":irc.test 319 alice alice :@#c"));
  Line(bob, "WHOIS alice");
  EXPECT_TRUE(HasLine(Take(bob), ":irc.test 319 bob alice :@+#c"));

  // The operator leaves: the channel is not empty, so nobody becomes operator by staying.
  Line(alice, "PART #c");
  Take(bob);
  ClientId carol = Connect("carol");
  lines = Join(carol, "#c");
  EXPECT_TRUE(HasLine(lines, ":irc.test 353 carol = #c :bob carol"));
}

TEST_F(ModesTest, ModeQueriesAndTheErrorsOfNonOperators) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice);
  Line(bob, "MODE #c");
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":irc.test 324 bob #c :+",
                                                 ":irc.test 329 bob #c :1700000000"}));
  Line(bob, "MODE #c +t");
  Line(bob, "MODE #c b");
  Line(bob, "MODE #c +o bob");
  Line(bob, "KICK #c alice");
  Line(bob, "MODE #nowhere +t");
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"482", "368", "482", "482", "403"}));
  EXPECT_TRUE(backend_.fetches.empty()) << "a change to a channel nobody here is in";
  EXPECT_TRUE(backend_.writes.empty());
  ClientId carol = Connect("carol");
  Line(carol, "MODE #c +t");
  Line(carol, "KICK #c bob");
  EXPECT_EQ(Codes(Take(carol)), (std::vector<std::string>{"442", "442"}));
  // An operator's errors: unknown letter, bad parameter, a nick not in the channel or nowhere.
  Line(alice, "MODE #c +zl x");
  Line(alice, "MODE #c +o carol");
  Line(alice, "MODE #c +v nobody");
  Line(alice, "MODE #c +k");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"472", "696", "441", "401", "696"}));
}

TEST_F(ModesTest, StatusChangesAreBroadcastOnceWithWhatChanged) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice);
  Line(alice, "MODE #c +ov-v+o bob bob alice alice");
  // +o alice is no change (she is operator already), -v alice neither.
  const std::string expected = kAlice + " MODE #c +ov bob bob";
  EXPECT_EQ(Take(alice), (std::vector<std::string>{expected}));
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));
  Line(bob, "MODE #c -o alice");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":bob!bob@5e1f5e1f.lattice MODE #c -o alice"}));
  Line(alice, "MODE #c +t");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"482"}));
}

TEST_F(ModesTest, ReplicatedSettingsAreWrittenAndTakeEffectFromTheWatch) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice);
  Line(alice, "MODE #c +tk-s sesame");
  ASSERT_EQ(backend_.writes.size(), 1u);
  // -s is no change: the channel is not secret.
  EXPECT_EQ(backend_.writes[0].text, "+t,+k sesame");
  EXPECT_EQ(backend_.writes[0].channel, "c");
  EXPECT_EQ(backend_.writes[0].sender, "alice");
  EXPECT_TRUE(Take(alice).empty());  // shown when the store has it
  StoreModes("m1", "alice", 10, {{"t", true, ""}, {"k", true, "sesame"}});
  const std::string expected = kAlice + " MODE #c +tk sesame";
  EXPECT_EQ(Take(alice), (std::vector<std::string>{expected}));
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));

  Line(alice, "MODE #c");
  EXPECT_EQ(Take(alice)[0], ":irc.test 324 alice #c +kt :sesame");
  // +t: only operators change the topic.
  Line(bob, "TOPIC #c :mine");
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"482"}));
  Line(alice, "TOPIC #c :ours");
  EXPECT_EQ(backend_.writes.back().kind, "topic");
  backend_.AnswerWrite("t1");
  // Shown when the kernel answers.
  EXPECT_EQ(Take(alice), (std::vector<std::string>{kAlice + " TOPIC #c :ours"}));
  Take(bob);
  // +k: a JOIN needs the key.
  ClientId carol = Connect("carol");
  Line(carol, "MODE #c");
  EXPECT_EQ(Take(carol)[0], ":irc.test 324 carol #c :+kt");  // the key is for members
  EXPECT_EQ(Codes(Join(carol, "#c")), (std::vector<std::string>{"475"}));
  EXPECT_EQ(Codes(Join(carol, "#c wrong")), (std::vector<std::string>{"475"}));
  auto lines = Join(carol, "#c sesame");
  EXPECT_EQ(lines[0], ":carol!carol@5e1f5e1f.lattice JOIN #c");
  EXPECT_TRUE(Take(alice).size() == 1u);  // carol's JOIN, and nothing of her failed ones
  Take(bob);

  // -k from the store.
  Line(alice, "MODE #c -k *");
  EXPECT_EQ(backend_.writes.back().text, "-k");
  StoreModes("m2", "alice", 11, {{"k", false, ""}});
  EXPECT_EQ(Take(bob), (std::vector<std::string>{kAlice + " MODE #c -k *"}));
}

TEST_F(ModesTest, AChangeFromAnotherNodeIsShownFromItsSenderAndEnforced) {
  ClientId alice = Connect("alice");
  Join(alice, "#c");
  server_->OnChatMessage(
      Modes("r1", "dave", kNodeA, 5, wall_ms_, {{"l", true, "1"}, {"x-other", true, "?"}}),
      now_ms_);
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":dave!dave@a1b2c3d4.lattice MODE #c +l 1"}));
  ClientId bob = Connect("bob");
  EXPECT_EQ(Codes(Join(bob, "#c")), (std::vector<std::string>{"471"}));
  // An older concurrent change loses, as it does in the store.
  server_->OnChatMessage(Modes("r0", "erin", kNodeA, 6, wall_ms_ - 1000, {{"l", false, ""}}),
                         now_ms_);
  EXPECT_TRUE(Take(alice).empty());
}

TEST_F(ModesTest, AJoinChecksTheSettingsTheKernelHas) {
  ClientId alice = Connect("alice");
  ChannelSnapshot snapshot;
  v1::ChannelMode key;
  key.set_mode("k");
  key.set_arg("sesame");
  key.mutable_hlc()->set_wall_ms(wall_ms_ - 1000);
  snapshot.modes.push_back(key);
  EXPECT_EQ(Codes(Join(alice, "#c", snapshot)), (std::vector<std::string>{"475"}));
  auto lines = Join(alice, "#c sesame", snapshot);
  EXPECT_TRUE(HasLine(lines, ":irc.test 353 alice = #c :@alice"));
  Line(alice, "MODE #c");
  EXPECT_EQ(Take(alice)[0], ":irc.test 324 alice #c +k :sesame");
}

TEST_F(ModesTest, InviteOnlyLetsInvitedClientsJoin) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Line(alice, "MODE #c +i");
  StoreModes("m1", "alice", 10, {{"i", true, ""}});
  Take(alice);
  EXPECT_EQ(Codes(Join(bob, "#c")), (std::vector<std::string>{"473"}));
  Line(bob, "INVITE bob #c");
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"442"}));
  Line(alice, "INVITE bob #c");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{":irc.test 341 alice bob :#c"}));
  EXPECT_EQ(Take(bob), (std::vector<std::string>{kAlice + " INVITE bob #c"}));
  Line(bob, "INVITE");
  EXPECT_EQ(Take(bob), (std::vector<std::string>{":irc.test 336 bob :#c",
                                                 ":irc.test 337 bob :End of /INVITE list"}));
  auto lines = Join(bob, "#c");
  EXPECT_EQ(lines[0], ":bob!bob@5e1f5e1f.lattice JOIN #c");
  Line(alice, "INVITE bob #c");
  Line(alice, "INVITE nobody #c");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"443", "401"}));
  // The invitation was used: once out, bob needs another.
  Line(bob, "PART #c");
  EXPECT_EQ(Codes(Join(bob, "#c")), (std::vector<std::string>{"473"}));
}

TEST_F(ModesTest, BansKeepOutAndSilenceMatchingClients) {
  ClientId alice = Connect("alice");
  ClientId eve = Connect("Eve");
  Join(alice, "#c");
  Join(eve, "#c");
  Take(alice);
  Line(alice, "MODE #c +b EVE");
  EXPECT_EQ(Take(eve), (std::vector<std::string>{kAlice + " MODE #c +b EVE!*@*"}));
  Take(alice);
  Line(alice, "MODE #c +b");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{
                ":irc.test 367 alice #c EVE!*@* alice!alice@5e1f5e1f.lattice :1700000000",
                ":irc.test 368 alice #c :End of channel ban list"}));
  Line(eve, "PRIVMSG #c :let me speak");
  EXPECT_EQ(Codes(Take(eve)), (std::vector<std::string>{"404"}));
  EXPECT_TRUE(backend_.writes.empty());
  Line(eve, "PART #c");
  Take(eve);
  EXPECT_EQ(Codes(Join(eve, "#c")), (std::vector<std::string>{"474"}));
  Line(alice, "MODE #c -b eve!*@*");
  Take(alice);
  EXPECT_EQ(Join(eve, "#c")[0], ":Eve!Eve@5e1f5e1f.lattice JOIN #c");
}

TEST_F(ModesTest, ModeratedChannelsHearOperatorsAndVoicedOnly) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Line(alice, "MODE #c +m");
  StoreModes("m1", "alice", 10, {{"m", true, ""}});
  Take(alice), Take(bob);
  Line(bob, "PRIVMSG #c :hello?");
  auto refused = Take(bob);
  ASSERT_EQ(Codes(refused), (std::vector<std::string>{"404"}));
  EXPECT_NE(refused[0].find("(+m)"), std::string::npos);
  EXPECT_TRUE(backend_.writes.empty());
  Line(alice, "MODE #c +v bob");
  Line(bob, "PRIVMSG #c :now I may");
  ASSERT_EQ(backend_.writes.size(), 1u);
  EXPECT_EQ(backend_.writes[0].text, "now I may");
  Line(alice, "PRIVMSG #c :and I");
  EXPECT_EQ(backend_.writes.size(), 2u);
}

TEST_F(ModesTest, NoExternalMessagesIsAReplicatedSetting) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Line(bob, "PRIVMSG #c :from outside");
  EXPECT_EQ(backend_.writes.size(), 1u);  // -n: the channel takes it
  backend_.AnswerWrite("p1");
  Line(alice, "MODE #c +n");
  StoreModes("m1", "alice", 10, {{"n", true, ""}});
  Line(bob, "PRIVMSG #c :from outside again");
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"404"}));
  EXPECT_TRUE(backend_.writes.empty());
}

TEST_F(ModesTest, StatusMessagesReachOnlyThatStatusAndAreNotStored) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  ClientId carol = Connect("carol");
  Join(alice, "#c");
  Join(bob, "#c");
  Join(carol, "#c");
  Line(alice, "MODE #c +v bob");
  Take(alice), Take(bob), Take(carol);
  Line(carol, "PRIVMSG @#c :ops only");
  EXPECT_EQ(Take(alice),
            (std::vector<std::string>{":carol!carol@5e1f5e1f.lattice PRIVMSG @#c :ops only"}));
  EXPECT_TRUE(Take(bob).empty());
  Line(carol, "NOTICE +#c :voiced and up");
  EXPECT_EQ(Take(alice).size(), 1u);
  EXPECT_EQ(Take(bob),
            (std::vector<std::string>{":carol!carol@5e1f5e1f.lattice NOTICE +#c :voiced and up"}));
  EXPECT_TRUE(Take(carol).empty());
  EXPECT_TRUE(backend_.writes.empty());
}

TEST_F(ModesTest, KickRemovesAMemberAndTellsEveryone) {
  ClientId alice = Connect("alice");
  ClientId bob = Connect("bob");
  Join(alice, "#c");
  Join(bob, "#c");
  Take(alice);
  Line(alice, "KICK #c bob :behave");
  const std::string expected = kAlice + " KICK #c bob :behave";
  EXPECT_EQ(Take(alice), (std::vector<std::string>{expected}));
  EXPECT_EQ(Take(bob), (std::vector<std::string>{expected}));
  Line(bob, "PRIVMSG #c :still here?");
  Line(alice, "KICK #c bob");
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"441"}));
  // Kicking oneself out of a channel one is alone in drops it.
  Line(alice, "KICK #c alice");
  EXPECT_EQ(Take(alice), (std::vector<std::string>{kAlice + " KICK #c alice :alice"}));
  // The gateway keeps the channel no more, so it asks the store, which holds nothing of it.
  Line(alice, "MODE #c");
  ASSERT_EQ(backend_.fetches.size(), 1u);
  backend_.AnswerFetch(ChannelSnapshot{});
  EXPECT_EQ(Codes(Take(alice)), (std::vector<std::string>{"403"}));
}

TEST_F(ModesTest, HistoryPlaysNoModeChanges) {
  ClientId alice = Connect("alice");
  ChannelSnapshot snapshot;
  v1::ChatMessage post;
  post.set_hash("h1");
  post.set_channel("c");
  post.set_kind("post");
  post.set_text("hi");
  post.set_sender("dave");
  post.set_author(kNodeA);
  post.set_cursor(3);
  snapshot.history = {Modes("h0", "dave", kNodeA, 2, wall_ms_, {{"t", true, ""}}), post};
  snapshot.horizon = 3;
  auto lines = Join(alice, "#c", snapshot);
  for (const auto& line : lines) {
    EXPECT_EQ(line.find(" MODE "), std::string::npos) << line;
  }
  EXPECT_EQ(lines.back(), ":dave!dave@a1b2c3d4.lattice PRIVMSG #c :hi");
}

TEST_F(ModesTest, IsupportAndCapabilitiesAdvertiseTheModes) {
  auto tokens = IsupportTokens("Lattice");
  for (const char* wanted : {"PREFIX=(ov)@+", "CHANMODES=b,k,l,imnst", "STATUSMSG=@+", "MODES=4",
                             "MAXLIST=b:100", "KEYLEN=23"}) {
    EXPECT_NE(std::find(tokens.begin(), tokens.end(), wanted), tokens.end()) << wanted;
  }
  ClientId id = next_id_++;
  server_->OnConnect(id, now_ms_);
  Line(id, "CAP LS 302");
  auto ls = Take(id);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_NE(ls[0].find("multi-prefix"), std::string::npos);
  EXPECT_NE(ls[0].find("userhost-in-names"), std::string::npos);
}

}  // namespace
}  // namespace lattice::irc

namespace lattice::irc {
namespace {

// A channel with no member on this gateway may live on other nodes: MODE #chan asks the
// store, answers 324 without the key, and 403 only for a channel the store never saw. The
// client's next line waits for the answer.
TEST_F(ModesTest, AModeQueryOfAChannelWithNoLocalMemberAsksTheStore) {
  ClientId bob = Connect("bob");
  Line(bob, "MODE #elsewhere");
  Line(bob, "PING :after");
  ASSERT_EQ(backend_.fetches.size(), 1u);
  EXPECT_EQ(backend_.fetches.front().limit, 0u);
  EXPECT_TRUE(Take(bob).empty()) << "the PING waits for the MODE answer";
  ChannelSnapshot snapshot;
  snapshot.messages = 12;
  for (auto [mode, arg] : {std::pair<std::string, std::string>{"t", ""}, {"k", "sesame"}}) {
    v1::ChannelMode on;
    on.set_mode(mode);
    on.set_arg(arg);
    on.mutable_hlc()->set_wall_ms(wall_ms_ - 1000);
    snapshot.modes.push_back(on);
  }
  backend_.AnswerFetch(snapshot);
  auto lines = Take(bob);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], ":irc.test 324 bob #elsewhere :+kt");
  EXPECT_NE(lines[1].find("PONG"), std::string::npos);

  Line(bob, "MODE #never");
  ASSERT_EQ(backend_.fetches.size(), 1u);
  backend_.AnswerFetch(ChannelSnapshot{});
  EXPECT_EQ(Codes(Take(bob)), (std::vector<std::string>{"403"}));
}

}  // namespace
}  // namespace lattice::irc
