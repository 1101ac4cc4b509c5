// Presence across nodes: the roster that turns other gateways' announcements into JOIN, PART,
// QUIT, NICK and AWAY, and the server that announces its own clients and shows remote ones.
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.h"
#include "src/presence_roster.h"
#include "src/server.h"

namespace lattice::irc {
namespace {

using testing::FakeBackend;
using testing::FakeTransport;

const std::string kSelf = "5e1f5e1f" + std::string(56, '0');
const std::string kNodeB = "b5b6b7b8" + std::string(56, '2');

std::string UserValue(const std::string& nick, const std::string& away = "") {
  return EncodePresenceUser({nick, nick, away, std::nullopt});
}
std::string ChannelValue(const std::string& channel) {
  return EncodePresenceChannel({channel, std::nullopt});
}

std::string Describe(const PresenceChange& change) {
  const char* kinds[] = {"join", "part", "quit", "nick", "away"};
  return std::string(kinds[static_cast<int>(change.kind)]) + " " + change.nick + " " +
         change.channel + " " + change.text;
}

std::vector<std::string> Describe(const std::vector<PresenceChange>& changes) {
  std::vector<std::string> out;
  for (const auto& change : changes) out.push_back(Describe(change));
  return out;
}

using Strings = std::vector<std::string>;

// ---- The roster -----------------------------------------------------------------------------

TEST(PresenceRosterTest, AUserJoinsOnceItsUserEntryIsKnown) {
  PresenceRoster roster(kSelf, "mine");
  // The membership may arrive first; it waits for the user.
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7/#general", ChannelValue("#General"), false)),
            Strings{});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7", UserValue("dave"), false)),
            Strings{"join dave #General "});
  EXPECT_TRUE(roster.IsPresent(kNodeB, "dave", "#general"));
  // A renewal changes nothing.
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7", UserValue("dave"), false)), Strings{});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7/#general", ChannelValue("#General"), false)),
            Strings{});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7/#b", ChannelValue("#b"), false)),
            Strings{"join dave #b "});
}

// IsPresent answers from an index kept beside the sessions: it must follow every way a
// membership ends, and two sessions of one nick (a gateway restarted) count separately.
TEST(PresenceRosterTest, PresenceFollowsPartsQuitsAndResyncs) {
  PresenceRoster roster(kSelf, "mine");
  roster.Apply(kNodeB, "irc/old/1", UserValue("dave"), false);
  roster.Apply(kNodeB, "irc/old/1/#a", ChannelValue("#a"), false);
  roster.Apply(kNodeB, "irc/new/1", UserValue("dave"), false);
  roster.Apply(kNodeB, "irc/new/1/#a", ChannelValue("#a"), false);
  roster.Apply(kNodeB, "irc/new/1/#b", ChannelValue("#b"), false);
  EXPECT_FALSE(roster.IsPresent(kNodeB, "dave", "#c"));
  EXPECT_FALSE(roster.IsPresent(kSelf, "dave", "#a"));
  roster.Apply(kNodeB, "irc/old/1", "", true);
  EXPECT_TRUE(roster.IsPresent(kNodeB, "dave", "#a")) << "the newer session is still in #a";
  roster.Apply(kNodeB, "irc/new/1/#a", EncodePresenceChannel({"#a", std::string("bye")}), false);
  EXPECT_FALSE(roster.IsPresent(kNodeB, "dave", "#a"));
  EXPECT_TRUE(roster.IsPresent(kNodeB, "dave", "#b"));
  // A snapshot without #b parts it; one without the user quits it.
  roster.Resync({{kNodeB, "irc/new/1", UserValue("dave")}});
  EXPECT_FALSE(roster.IsPresent(kNodeB, "dave", "#b"));
  roster.Resync({{kNodeB, "irc/new/1", UserValue("dave")},
                 {kNodeB, "irc/new/1/#b", ChannelValue("#b")}});
  EXPECT_TRUE(roster.IsPresent(kNodeB, "dave", "#b"));
  roster.Resync({});
  EXPECT_FALSE(roster.IsPresent(kNodeB, "dave", "#b"));
  EXPECT_EQ(roster.session_count(), 0u);
}

TEST(PresenceRosterTest, NickAwayPartAndQuit) {
  PresenceRoster roster(kSelf, "mine");
  roster.Apply(kNodeB, "irc/gw/7", UserValue("dave"), false);
  roster.Apply(kNodeB, "irc/gw/7/#a", ChannelValue("#a"), false);
  roster.Apply(kNodeB, "irc/gw/7/#b", ChannelValue("#b"), false);
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7", UserValue("dave2"), false)),
            Strings{"nick dave  dave2"});
  EXPECT_FALSE(roster.IsPresent(kNodeB, "dave", "#a"));
  EXPECT_TRUE(roster.IsPresent(kNodeB, "dave2", "#a"));
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7", UserValue("dave2", "lunch"), false)),
            Strings{"away dave2  lunch"});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7/#a",
                                  EncodePresenceChannel({"#a", std::string("bye")}), false)),
            Strings{"part dave2 #a bye"});
  // An entry that expires without a word is a departure too.
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7/#b", "", true)),
            Strings{"part dave2 #b Connection lost"});
  roster.Apply(kNodeB, "irc/gw/7/#c", ChannelValue("#c"), false);
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7",
                                  EncodePresenceUser({"dave2", "dave2", "", "gone home"}), false)),
            Strings{"quit dave2  gone home"});
  // The memberships withdrawn after the quit say nothing more.
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/7/#c", "", true)), Strings{});
  EXPECT_EQ(roster.session_count(), 0u);
}

TEST(PresenceRosterTest, OwnAndMalformedEntriesAreIgnored) {
  PresenceRoster roster(kSelf, "mine");
  EXPECT_EQ(Describe(roster.Apply(kSelf, "irc/mine/1", UserValue("me"), false)), Strings{});
  EXPECT_EQ(roster.session_count(), 0u);
  // The same instance name on another node is another gateway.
  roster.Apply(kNodeB, "irc/mine/1", UserValue("other"), false);
  EXPECT_EQ(roster.session_count(), 1u);
  for (const char* key : {"irc/", "irc//1", "irc/gw", "irc/gw/x", "irc/gw/1/", "kv/gw/1"}) {
    EXPECT_EQ(Describe(roster.Apply(kNodeB, key, UserValue("x"), false)), Strings{}) << key;
  }
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/2", "{not json", false)), Strings{});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/2", "[1,2]", false)), Strings{});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/2", R"({"nick":7})", false)), Strings{});
  EXPECT_EQ(Describe(roster.Apply(kNodeB, "irc/gw/3", "", true)), Strings{});
}

TEST(PresenceRosterTest, ASnapshotReplacesWhatWasKnown) {
  PresenceRoster roster(kSelf, "mine");
  roster.Apply(kNodeB, "irc/gw/1", UserValue("stays"), false);
  roster.Apply(kNodeB, "irc/gw/1/#a", ChannelValue("#a"), false);
  roster.Apply(kNodeB, "irc/gw/1/#b", ChannelValue("#b"), false);
  roster.Apply(kNodeB, "irc/gw/2", UserValue("leaves"), false);
  roster.Apply(kNodeB, "irc/gw/2/#a", ChannelValue("#a"), false);
  auto changes = Describe(roster.Resync({{kNodeB, "irc/gw/1/#a", ChannelValue("#a")},
                                         {kNodeB, "irc/gw/3/#a", ChannelValue("#a")},
                                         {kNodeB, "irc/gw/1", UserValue("stays")},
                                         {kNodeB, "irc/gw/3", UserValue("arrives")}}));
  std::sort(changes.begin(), changes.end());
  EXPECT_EQ(changes, (Strings{"join arrives #a ", "part stays #b Connection lost",
                              "quit leaves  Connection lost"}));
  auto members = roster.MembersOf("#a");
  EXPECT_EQ(members.size(), 2u);
}

// ---- The server -----------------------------------------------------------------------------

class FakePublisher final : public PresencePublisher {
 public:
  struct Announcement {
    std::string key;
    std::string value;
    uint32_t ttl_ms;
  };
  void Announce(const std::string& key, const std::string& value, uint32_t ttl_ms) override {
    announced.push_back({key, value, ttl_ms});
  }
  std::vector<Announcement> Take() { return std::exchange(announced, {}); }
  std::vector<Announcement> announced;
};

class PresenceServerTest : public ::testing::Test {
 protected:
  PresenceServerTest() {
    ServerOptions options;
    options.server_name = "irc.test";
    options.store = "chat1";
    options.node_id = kSelf;
    options.presence_instance = "mine";
    options.remote_idle_part_ms = 60'000;
    options.wall_clock_ms = [] { return uint64_t{1'700'000'000'000}; };
    server_ = std::make_unique<IrcServer>(options, transport_, backend_);
    server_->SetPresence(&publisher_);
  }

  ClientId Connect(const std::string& nick) {
    ClientId id = next_id_++;
    server_->OnConnect(id, now_ms_);
    Line(id, "NICK " + nick);
    Line(id, "USER " + nick + " 0 * :" + nick);
    transport_.Take(id);
    return id;
  }
  void Line(ClientId id, const std::string& text) { server_->OnLine(id, text, now_ms_); }
  void Join(ClientId id, const std::string& channel) {
    Line(id, "JOIN " + channel);
    ASSERT_FALSE(backend_.fetches.empty());
    backend_.AnswerFetch(ChannelSnapshot{});
  }
  void Presence(const std::string& key, const std::string& value, bool gone = false) {
    PresenceEventBatch batch;
    batch.events.push_back({kNodeB, key, value, gone});
    server_->OnPresence(std::move(batch), now_ms_);
  }

  FakeTransport transport_;
  FakeBackend backend_;
  FakePublisher publisher_;
  std::unique_ptr<IrcServer> server_;
  ClientId next_id_ = 1;
  int64_t now_ms_ = 1'000'000;
};

TEST_F(PresenceServerTest, ClientsAreAnnouncedAsTheyComeAndGo) {
  ClientId alice = Connect("alice");
  auto announced = publisher_.Take();
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_EQ(announced[0].key, "irc/mine/1");
  EXPECT_EQ(announced[0].value, UserValue("alice"));
  EXPECT_EQ(announced[0].ttl_ms, kPresenceTtlMs);

  Join(alice, "#General");
  announced = publisher_.Take();
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_EQ(announced[0].key, "irc/mine/1/#general");

  Line(alice, "NICK alicia");
  Line(alice, "AWAY :lunch");
  announced = publisher_.Take();
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[0].value, EncodePresenceUser({"alicia", "alice", "", std::nullopt}));
  EXPECT_EQ(announced[1].value, EncodePresenceUser({"alicia", "alice", "lunch", std::nullopt}));

  Join(alice, "#b");
  publisher_.Take();
  Line(alice, "PART #b :later");
  announced = publisher_.Take();
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_EQ(announced[0].key, "irc/mine/1/#b");
  EXPECT_EQ(announced[0].value, EncodePresenceChannel({"#b", std::string("later")}));
  EXPECT_EQ(announced[0].ttl_ms, kPresenceDepartureTtlMs);

  // Renewed while connected, at the renewal interval.
  now_ms_ += kPresenceRenewMs;
  server_->OnTick(now_ms_);
  announced = publisher_.Take();
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[0].key, "irc/mine/1");
  EXPECT_EQ(announced[1].key, "irc/mine/1/#general");

  server_->OnDisconnect(alice, "Quit: bye");
  announced = publisher_.Take();
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[0].value,
            EncodePresenceUser({"alicia", "alice", "lunch", std::string("Quit: bye")}));
  EXPECT_EQ(announced[1].key, "irc/mine/1/#general");
  EXPECT_EQ(announced[1].ttl_ms, 0u);
}

TEST_F(PresenceServerTest, RemoteUsersJoinRenamePartAndQuit) {
  ClientId bob = Connect("bob");
  Join(bob, "#general");
  transport_.Take(bob);
  Presence("irc/gw/4", UserValue("dave"));
  Presence("irc/gw/4/#general", ChannelValue("#general"));
  EXPECT_EQ(transport_.Take(bob),
            Strings{":dave!dave@b5b6b7b8.lattice JOIN #general"});

  Presence("irc/gw/4", UserValue("dave2"));
  EXPECT_EQ(transport_.Take(bob), Strings{":dave!dave@b5b6b7b8.lattice NICK dave2"});

  // Announced users are not parted for being quiet.
  now_ms_ += 120'000;
  server_->OnTick(now_ms_);
  for (const auto& line : transport_.Take(bob)) EXPECT_EQ(line.find("PART"), std::string::npos);

  Presence("irc/gw/4/#general", EncodePresenceChannel({"#general", std::string("brb")}));
  EXPECT_EQ(transport_.Take(bob), Strings{":dave2!dave2@b5b6b7b8.lattice PART #general :brb"});
  Presence("irc/gw/4/#general", ChannelValue("#general"));
  EXPECT_EQ(transport_.Take(bob), Strings{":dave2!dave2@b5b6b7b8.lattice JOIN #general"});
  Presence("irc/gw/4", "", /*gone=*/true);
  EXPECT_EQ(transport_.Take(bob),
            Strings{":dave2!dave2@b5b6b7b8.lattice QUIT :Connection lost"});
}

TEST_F(PresenceServerTest, IsonNamesARemoteUserOnlyWhileAGatewayAnnouncesIt) {
  ClientId bob = Connect("bob");
  Presence("irc/gw/4", UserValue("dave"));
  Line(bob, "ISON dave DAVE nobody");
  EXPECT_EQ(transport_.Take(bob), Strings{":irc.test 303 bob :dave dave"});
  Presence("irc/gw/4", "", /*gone=*/true);
  transport_.Take(bob);
  Line(bob, "ISON dave bob");
  EXPECT_EQ(transport_.Take(bob), Strings{":irc.test 303 bob :bob"})
      << "a user who quit is still known by name, but no longer on IRC";
}

TEST_F(PresenceServerTest, MonitorFollowsUsersOfOtherGatewaysWithoutAShareChannel) {
  ClientId bob = Connect("bob");
  Line(bob, "MONITOR + dave,erin");
  EXPECT_EQ(transport_.Take(bob), Strings{":irc.test 731 bob :dave,erin"});
  Presence("irc/gw/4", UserValue("dave"));
  EXPECT_EQ(transport_.Take(bob), Strings{":irc.test 730 bob :dave!dave@b5b6b7b8.lattice"});
  // A renewal or a change of away is no news.
  Presence("irc/gw/4", UserValue("dave"));
  Presence("irc/gw/4", UserValue("dave", "lunch"));
  EXPECT_TRUE(transport_.Take(bob).empty());
  Presence("irc/gw/4", UserValue("erin"));
  EXPECT_EQ(transport_.Take(bob), (Strings{":irc.test 731 bob :dave",
                                           ":irc.test 730 bob :erin!erin@b5b6b7b8.lattice"}));
  Presence("irc/gw/4", "", /*gone=*/true);
  EXPECT_EQ(transport_.Take(bob), Strings{":irc.test 731 bob :erin"});
  // A new watch's snapshot brings them back.
  PresenceEventBatch snapshot;
  snapshot.snapshot = true;
  snapshot.events.push_back({kNodeB, "irc/gw/5", UserValue("dave"), false});
  server_->OnPresence(std::move(snapshot), now_ms_);
  EXPECT_EQ(transport_.Take(bob), Strings{":irc.test 730 bob :dave!dave@b5b6b7b8.lattice"});
}

TEST_F(PresenceServerTest, ExtendedMonitorTellsAwayOfAMonitoredRemoteUser) {
  ClientId erin = next_id_++;
  server_->OnConnect(erin, now_ms_);
  Line(erin, "CAP REQ :away-notify extended-monitor");
  Line(erin, "NICK erin");
  Line(erin, "USER erin 0 * :erin");
  Line(erin, "CAP END");
  Line(erin, "MONITOR + dave");
  Presence("irc/gw/4", UserValue("dave"));
  transport_.Take(erin);
  Presence("irc/gw/4", UserValue("dave", "lunch"));
  EXPECT_EQ(transport_.Take(erin), Strings{":dave!dave@b5b6b7b8.lattice AWAY :lunch"});
}

TEST_F(PresenceServerTest, RemoteAwayReachesAwayNotifyMembers) {
  ClientId bob = Connect("bob");
  ClientId erin = next_id_++;
  server_->OnConnect(erin, now_ms_);
  Line(erin, "CAP REQ :away-notify");
  Line(erin, "NICK erin");
  Line(erin, "USER erin 0 * :erin");
  Line(erin, "CAP END");
  Join(bob, "#general");
  Join(erin, "#general");
  Presence("irc/gw/4", UserValue("dave"));
  Presence("irc/gw/4/#general", ChannelValue("#general"));
  transport_.Take(bob);
  transport_.Take(erin);
  Presence("irc/gw/4", UserValue("dave", "lunch"));
  EXPECT_EQ(transport_.Take(erin), Strings{":dave!dave@b5b6b7b8.lattice AWAY :lunch"});
  EXPECT_TRUE(transport_.Take(bob).empty());
  Presence("irc/gw/4", UserValue("dave"));
  EXPECT_EQ(transport_.Take(erin), Strings{":dave!dave@b5b6b7b8.lattice AWAY"});
}

TEST_F(PresenceServerTest, AJoiningClientSeesAnnouncedUsersInNames) {
  Presence("irc/gw/4", UserValue("dave"));
  Presence("irc/gw/4/#quiet", ChannelValue("#quiet"));
  ClientId carol = Connect("carol");
  Join(carol, "#quiet");
  auto lines = transport_.Take(carol);
  auto names = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
    return line.find(" 353 ") != std::string::npos;
  });
  ASSERT_NE(names, lines.end());
  EXPECT_NE(names->find("dave"), std::string::npos) << *names;
  // No JOIN of its own: the NAMES entry says it.
  for (const auto& line : lines) EXPECT_EQ(line.find("dave!"), std::string::npos) << line;
}

}  // namespace
}  // namespace lattice::irc
