// Channel modes without a server: parsing of MODE lines (parameters, MODES= budget, 472 and
// 696), ban masks and their matching, and the replicated settings as last-writer-wins
// registers.
#include "src/channel_modes.h"

#include <gtest/gtest.h>

#include "src/limits.h"
#include "src/numerics.h"

namespace lattice::irc {
namespace {

using Changes = std::vector<ModeChange>;

TEST(ChannelModesParse, SeveralRunsConsumeTheirParametersInOrder) {
  ParsedModes parsed = ParseChannelModes("#c", "+ok-v", {"alice", "secret", "bob"});
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_FALSE(parsed.list_bans);
  EXPECT_EQ(parsed.changes,
            (Changes{{'o', true, "alice"}, {'k', true, "secret"}, {'v', false, "bob"}}));
  EXPECT_EQ(RenderModeChanges(parsed.changes),
            (std::vector<std::string>{"+ok-v", "alice", "secret", "bob"}));
}

TEST(ChannelModesParse, FlagsTakeNoParameterAndLimitOnlyWhenSet) {
  ParsedModes parsed = ParseChannelModes("#c", "+tnl-l+ims", {"10"});
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.changes, (Changes{{'t', true, ""},
                                     {'n', true, ""},
                                     {'l', true, "10"},
                                     {'l', false, ""},
                                     {'i', true, ""},
                                     {'m', true, ""},
                                     {'s', true, ""}}));
}

TEST(ChannelModesParse, UnsettingTheKeyTakesAParameterWhenThereIsOne) {
  EXPECT_EQ(ParseChannelModes("#c", "-k+o", {"old", "bob"}).changes,
            (Changes{{'k', false, ""}, {'o', true, "bob"}}));
  EXPECT_EQ(ParseChannelModes("#c", "-k", {}).changes, (Changes{{'k', false, ""}}));
}

TEST(ChannelModesParse, BanWithoutMaskAsksForTheList) {
  ParsedModes parsed = ParseChannelModes("#c", "+b", {});
  EXPECT_TRUE(parsed.list_bans);
  EXPECT_TRUE(parsed.changes.empty());
  parsed = ParseChannelModes("#c", "b", {});
  EXPECT_TRUE(parsed.list_bans);
  parsed = ParseChannelModes("#c", "+b", {"eve"});
  EXPECT_FALSE(parsed.list_bans);
  EXPECT_EQ(parsed.changes, (Changes{{'b', true, "eve!*@*"}}));
}

TEST(ChannelModesParse, InvalidParametersAre696AndUnknownLetters472Once) {
  ParsedModes parsed = ParseChannelModes("#c", "+lkzzo", {"many", "bad,key"});
  EXPECT_TRUE(parsed.changes.empty());
  ASSERT_EQ(parsed.errors.size(), 4u);
  EXPECT_EQ(parsed.errors[0].code, numeric::kErrInvalidModeParam);
  EXPECT_EQ(std::vector<std::string>(parsed.errors[0].params.begin(),
                                     parsed.errors[0].params.begin() + 3),
            (std::vector<std::string>{"#c", "l", "many"}));
  EXPECT_EQ(parsed.errors[1].code, numeric::kErrInvalidModeParam);
  EXPECT_EQ(parsed.errors[1].params[2], "bad,key");
  EXPECT_EQ(parsed.errors[2].code, numeric::kErrUnknownMode);
  EXPECT_EQ(parsed.errors[2].params, (std::vector<std::string>{"z", "is unknown mode char to me"}));
  // +o with no parameter left.
  EXPECT_EQ(parsed.errors[3].code, numeric::kErrInvalidModeParam);
  EXPECT_EQ(parsed.errors[3].params[1], "o");
  EXPECT_EQ(parsed.errors[3].params[2], "*");

  for (const char* limit : {"0", "-1", "100001", "12a", ""}) {
    parsed = ParseChannelModes("#c", "+l", {limit});
    EXPECT_TRUE(parsed.changes.empty()) << limit;
    ASSERT_EQ(parsed.errors.size(), 1u) << limit;
    EXPECT_EQ(parsed.errors[0].code, numeric::kErrInvalidModeParam);
  }
  parsed = ParseChannelModes("#c", "+k", {std::string(limits::kMaxKeyBytes + 1, 'x')});
  EXPECT_EQ(parsed.errors.size(), 1u);
  parsed = ParseChannelModes("#c", "+k", {});
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].params[2], "*");
}

TEST(ChannelModesParse, ALineGetsAFewErrorsAtMost) {
  ParsedModes parsed = ParseChannelModes("#c", std::string(400, 'l') + "xyxy", {});
  EXPECT_EQ(parsed.errors.size(), limits::kMaxModeParams + 2);  // and 472 for x and y once
}

TEST(ChannelModesParse, ChangesWithParametersBeyondModesAreIgnored) {
  ASSERT_EQ(limits::kMaxModeParams, 4u);
  ParsedModes parsed = ParseChannelModes("#c", "+oooooot", {"a", "b", "c", "d", "e", "f"});
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.changes, (Changes{{'o', true, "a"},
                                     {'o', true, "b"},
                                     {'o', true, "c"},
                                     {'o', true, "d"},
                                     {'t', true, ""}}));
}

TEST(ChannelModesMasks, NormalizedAndMatchedWithCasemapping) {
  EXPECT_EQ(NormalizeMask("eve"), "eve!*@*");
  EXPECT_EQ(NormalizeMask("*@evil.host"), "*!*@evil.host");
  EXPECT_EQ(NormalizeMask("eve!x"), "eve!x@*");
  EXPECT_EQ(NormalizeMask("a!b@c"), "a!b@c");
  EXPECT_TRUE(BanMaskMatches("eve!*@*", "Eve!eve@5e1f5e1f.lattice"));
  EXPECT_TRUE(BanMaskMatches("*!*@5E1F*", "bob!bob@5e1f5e1f.lattice"));
  EXPECT_TRUE(BanMaskMatches("n[ck]!*@*", "N{CK}!u@h"));  // rfc1459: [ ] fold to { }
  EXPECT_TRUE(BanMaskMatches("b?b!*@*", "bob!bob@h"));
  EXPECT_FALSE(BanMaskMatches("b?b!*@*", "bobby!bob@h"));
  EXPECT_FALSE(BanMaskMatches("eve!*@*", "steve!eve@h"));
}

TEST(ChannelModesState, BansAndStatusPerClient) {
  ChannelModes modes;
  EXPECT_TRUE(modes.AddBan("eve!*@*", "alice!alice@h", 1));
  EXPECT_FALSE(modes.AddBan("EVE!*@*", "alice!alice@h", 2));
  EXPECT_TRUE(modes.IsBanned("eve!x@y"));
  EXPECT_TRUE(modes.RemoveBan("Eve!*@*"));
  EXPECT_FALSE(modes.IsBanned("eve!x@y"));
  for (size_t i = 0; i < limits::kMaxBans; ++i) {
    EXPECT_TRUE(modes.AddBan("n" + std::to_string(i) + "!*@*", "a", 1));
  }
  EXPECT_TRUE(modes.BanListFull());
  EXPECT_FALSE(modes.AddBan("one!more@*", "a", 1));

  EXPECT_TRUE(modes.SetStatus('o', 7, true));
  EXPECT_FALSE(modes.SetStatus('o', 7, true));
  EXPECT_TRUE(modes.SetStatus('v', 7, true));
  EXPECT_EQ(modes.Prefixes(7, /*all=*/true), "@+");
  EXPECT_EQ(modes.Prefixes(7, /*all=*/false), "@");
  modes.Invite(7);
  EXPECT_TRUE(modes.IsInvited(7));
  modes.Forget(7);
  EXPECT_EQ(modes.Prefixes(7, true), "");
  EXPECT_FALSE(modes.IsInvited(7));
}

TEST(ChannelModesState, StoredSettingsAreLastWriterWinsRegisters) {
  ChannelModes modes;
  EXPECT_TRUE(modes.ApplyStored({'k', true, "one"}, {100, 0, "h1"}, 5));
  EXPECT_EQ(modes.Arg('k'), "one");
  // An older concurrent change arriving later loses, as it does in the store.
  EXPECT_FALSE(modes.ApplyStored({'k', false, ""}, {90, 0, "h0"}, 6));
  EXPECT_TRUE(modes.Has('k'));
  // Per mode: a change of another mode is its own register.
  EXPECT_TRUE(modes.ApplyStored({'t', true, ""}, {80, 0, "h2"}, 7));
  EXPECT_TRUE(modes.ApplyStored({'l', true, "5"}, {110, 0, "h3"}, 8));
  EXPECT_EQ(modes.Limit(), 5u);
  EXPECT_EQ(modes.Describe(true), (std::vector<std::string>{"+klt", "one", "5"}));
  EXPECT_EQ(modes.Describe(false), (std::vector<std::string>{"+klt"}));
  EXPECT_FALSE(modes.WouldChange({'t', true, ""}));
  EXPECT_TRUE(modes.WouldChange({'k', true, "two"}));
  EXPECT_TRUE(modes.WouldChange({'t', false, ""}));
  // Per-gateway letters never go through the registers.
  EXPECT_FALSE(modes.ApplyStored({'o', true, "x"}, {200, 0, "h4"}, 9));
}

TEST(ChannelModesState, ASnapshotSwitchesOffWhatItNoLongerLists) {
  ChannelModes modes;
  // Seen on the watch (cursor 5) while the channel was being read...
  modes.ApplyStored({'t', true, ""}, {100, 0, "h1"}, 5);
  // ... and seen later (cursor 9), after the read.
  modes.ApplyStored({'m', true, ""}, {120, 0, "h2"}, 9);
  // The read (horizon 7) includes the first change and a later -t, so lists only +k.
  modes.ApplySnapshot({{{'k', true, "key"}, {110, 0, ""}}}, 7);
  EXPECT_FALSE(modes.Has('t'));
  EXPECT_TRUE(modes.Has('m'));
  EXPECT_EQ(modes.Arg('k'), "key");
}

}  // namespace
}  // namespace lattice::irc
