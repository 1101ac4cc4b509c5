// Channel and nick rules, and the naming scheme for users of other nodes.
#include <gtest/gtest.h>

#include <set>

#include "src/casemap.h"
#include "src/limits.h"
#include "src/nick_directory.h"

namespace lattice::irc {
namespace {

const std::string kNodeA = "a1b2c3d4" + std::string(56, '0');
const std::string kNodeB = "b5b6b7b8" + std::string(56, '1');
const std::string kSelf = "5e1f5e1f" + std::string(56, '2');

TEST(CaseMapping, Rfc1459FoldsBracketsAndTilde) {
  EXPECT_EQ(FoldCase("Nick[A]\\~"), "nick{a}|^");
  EXPECT_TRUE(EqualsFolded("ALICE", "alice"));
  EXPECT_TRUE(EqualsFolded("a[b]", "A{B}"));
  EXPECT_FALSE(EqualsFolded("alice", "alice2"));
}

TEST(Nicks, ValidAndInvalid) {
  EXPECT_TRUE(IsValidNick("alice"));
  EXPECT_TRUE(IsValidNick("[bot]"));
  EXPECT_TRUE(IsValidNick("a-1_^`{}|\\"));
  EXPECT_FALSE(IsValidNick(""));
  EXPECT_FALSE(IsValidNick("1abc"));
  EXPECT_FALSE(IsValidNick("-abc"));
  EXPECT_FALSE(IsValidNick("a b"));
  EXPECT_FALSE(IsValidNick("a!b"));
  EXPECT_FALSE(IsValidNick("J\xC3\xBCrgen"));
  EXPECT_TRUE(IsValidNick(std::string(limits::kMaxNickBytes, 'n')));
  EXPECT_FALSE(IsValidNick(std::string(limits::kMaxNickBytes + 1, 'n')));
}

TEST(Nicks, RemoteFormIsReserved) {
  EXPECT_TRUE(IsReservedRemoteNick("alice|a1b2c3d4"));
  EXPECT_TRUE(IsReservedRemoteNick("alice|A1B2C3D4"));
  EXPECT_TRUE(IsReservedRemoteNick("alice\\a1b2c3d4-2"));  // '\' folds to '|'
  EXPECT_FALSE(IsReservedRemoteNick("alice|away"));
  EXPECT_FALSE(IsReservedRemoteNick("alice|a1b2c3d"));
  EXPECT_FALSE(IsReservedRemoteNick("alice|a1b2c3d4-"));
  EXPECT_FALSE(IsReservedRemoteNick("alice"));
}

TEST(Channels, NamesAndTheirStoreChannels) {
  EXPECT_TRUE(IsValidChannelName("#general"));
  EXPECT_TRUE(IsValidChannelName("##x"));
  EXPECT_TRUE(IsValidChannelName("#caf\xC3\xA9"));
  EXPECT_FALSE(IsValidChannelName("#"));
  EXPECT_FALSE(IsValidChannelName("general"));
  EXPECT_FALSE(IsValidChannelName("&local"));
  EXPECT_FALSE(IsValidChannelName("#a b"));
  EXPECT_FALSE(IsValidChannelName("#a,b"));
  EXPECT_FALSE(IsValidChannelName("#a:b"));
  EXPECT_FALSE(IsValidChannelName("#a\a"));
  EXPECT_FALSE(IsValidChannelName("#\xff"));
  EXPECT_FALSE(IsValidChannelName("#" + std::string(limits::kMaxChannelNameBytes, 'x')));
  EXPECT_EQ(StoreChannelFor("#General"), "general");
  EXPECT_EQ(IrcChannelFor("General"), "#general");
  EXPECT_EQ(IrcChannelFor("with space"), "");
  EXPECT_EQ(IrcChannelFor(""), "");
}

TEST(Channels, SplitCommaList) {
  EXPECT_EQ(SplitCommaList("#a,,#b,"), (std::vector<std::string>{"#a", "#b"}));
  EXPECT_TRUE(SplitCommaList("").empty());
}

TEST(NickNaming, BaseNickMakesAnySenderAValidNick) {
  EXPECT_EQ(BaseNick("alice", kNodeA), "alice");
  EXPECT_EQ(BaseNick("J\xC3\xBCrgen", kNodeA), "J__rgen");
  EXPECT_EQ(BaseNick("9lives", kNodeA), "_9lives");
  EXPECT_EQ(BaseNick("a b!c@d", kNodeA), "a_b_c_d");
  EXPECT_EQ(BaseNick("", kNodeA), "node-a1b2c3d4");
  EXPECT_EQ(BaseNick(std::string(100, 'x'), kNodeA).size(), limits::kMaxNickBytes);
  for (const char* sender : {"alice", "J\xC3\xBCrgen", "9", "-", "", " ", "\x01"}) {
    EXPECT_TRUE(IsValidNick(BaseNick(sender, kNodeA))) << sender;
  }
}

TEST(NickNaming, CandidatesCarryTheNodeAndFit) {
  EXPECT_EQ(NickCandidate("alice", kNodeA, 0), "alice");
  EXPECT_EQ(NickCandidate("alice", kNodeA, 1), "alice|a1b2c3d4");
  EXPECT_EQ(NickCandidate("alice", kNodeA, 2), "alice|a1b2c3d4-2");
  std::string long_base(limits::kMaxNickBytes, 'x');
  for (int attempt = 0; attempt < 12; ++attempt) {
    std::string candidate = NickCandidate(long_base, kNodeA, attempt);
    EXPECT_LE(candidate.size(), limits::kMaxNickBytes);
    EXPECT_TRUE(IsValidNick(candidate));
    if (attempt > 0) {
      EXPECT_TRUE(IsReservedRemoteNick(candidate)) << candidate;
    }
  }
  EXPECT_EQ(HostForNode(kNodeA), "a1b2c3d4.lattice");
}

TEST(NickDirectory, SameNickOnTwoNodesGetsTheNodeSuffix) {
  std::set<std::string> local;
  NickDirectory directory([&](const std::string& f) { return local.count(f) != 0; });
  ExternalUser& a = directory.Resolve(kNodeA, "alice");
  ExternalUser& b = directory.Resolve(kNodeB, "alice");
  EXPECT_EQ(a.nick, "alice");
  EXPECT_EQ(b.nick, "alice|b5b6b7b8");
  EXPECT_EQ(a.Prefix(), "alice!alice@a1b2c3d4.lattice");
  EXPECT_EQ(b.Prefix(), "alice|b5b6b7b8!alice@b5b6b7b8.lattice");
  // Stable: the same sender resolves to the same user and nick.
  EXPECT_EQ(&directory.Resolve(kNodeA, "alice"), &a);
  EXPECT_EQ(directory.FindByNick("ALICE|B5B6B7B8"), &b);
}

TEST(NickDirectory, LocalClientsKeepTheirNick) {
  std::set<std::string> local = {"bob"};
  NickDirectory directory([&](const std::string& f) { return local.count(f) != 0; });
  EXPECT_EQ(directory.Resolve(kNodeA, "Bob").nick, "Bob|a1b2c3d4");
}

TEST(NickDirectory, ALocalClientTakingANickMovesTheRemoteUserAside) {
  std::set<std::string> local;
  NickDirectory directory([&](const std::string& f) { return local.count(f) != 0; });
  ExternalUser& carol = directory.Resolve(kNodeA, "carol");
  ASSERT_EQ(carol.nick, "carol");
  auto moved = directory.YieldNick("Carol");
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->first, &carol);
  EXPECT_EQ(moved->second, "carol");
  EXPECT_EQ(carol.nick, "carol|a1b2c3d4");
  EXPECT_EQ(directory.FindByNick("carol"), nullptr);
  EXPECT_EQ(directory.FindByNick("carol|a1b2c3d4"), &carol);
  EXPECT_FALSE(directory.YieldNick("nobody").has_value());
}

TEST(NickDirectory, SendersThatLookAlikeStayApart) {
  std::set<std::string> local;
  NickDirectory directory([&](const std::string& f) { return local.count(f) != 0; });
  // Two senders of one node that sanitize to the same nick, and a sender already
  // named like a suffixed nick.
  ExternalUser& first = directory.Resolve(kNodeA, "J\xC3\xBCrgen");
  ExternalUser& second = directory.Resolve(kNodeA, "J\xC3\xB6rgen");
  ExternalUser& fake = directory.Resolve(kNodeB, "J__rgen|a1b2c3d4");
  std::set<std::string> nicks = {FoldCase(first.nick), FoldCase(second.nick), FoldCase(fake.nick)};
  EXPECT_EQ(nicks.size(), 3u);
  EXPECT_EQ(first.nick, "J__rgen");
  EXPECT_EQ(second.nick, "J__rgen|a1b2c3d4");
  EXPECT_NE(fake.nick, "J__rgen|a1b2c3d4");
  EXPECT_EQ(directory.Resolve(kSelf, "").nick, "node-5e1f5e1f");
}

}  // namespace
}  // namespace lattice::irc
