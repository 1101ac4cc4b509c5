#include "src/message.h"

#include <gtest/gtest.h>

#include "src/limits.h"

namespace lattice::irc {
namespace {

TEST(ParseLine, CommandParamsAndTrailing) {
  ParseResult r = ParseLine("privmsg #chan :hello there : world");
  ASSERT_EQ(r.error, ParseError::kNone);
  EXPECT_EQ(r.message.command, "PRIVMSG");
  ASSERT_EQ(r.message.params.size(), 2u);
  EXPECT_EQ(r.message.params[0], "#chan");
  EXPECT_EQ(r.message.params[1], "hello there : world");
  EXPECT_TRUE(r.message.prefix.empty());
  EXPECT_TRUE(r.message.tags.empty());
}

TEST(ParseLine, PrefixAndNumeric) {
  ParseResult r = ParseLine(":irc.example 001 alice :Welcome");
  ASSERT_EQ(r.error, ParseError::kNone);
  EXPECT_EQ(r.message.prefix, "irc.example");
  EXPECT_EQ(r.message.command, "001");
  EXPECT_EQ(r.message.params, (std::vector<std::string>{"alice", "Welcome"}));
}

TEST(ParseLine, RepeatedSpacesSeparateOnce) {
  ParseResult r = ParseLine("  USER   bob  0 *   :Bob  Smith ");
  ASSERT_EQ(r.error, ParseError::kNone);
  EXPECT_EQ(r.message.params, (std::vector<std::string>{"bob", "0", "*", "Bob  Smith "}));
}

TEST(ParseLine, EmptyTrailingIsAParameter) {
  ParseResult r = ParseLine("TOPIC #chan :");
  ASSERT_EQ(r.error, ParseError::kNone);
  EXPECT_EQ(r.message.params, (std::vector<std::string>{"#chan", ""}));
}

TEST(ParseLine, TagsAreUnescapedAndLastDuplicateWins) {
  ParseResult r =
      ParseLine("@time=2024-01-01T00:00:00.000Z;+example.com/x=a\\sb\\:c\\\\d;flag;k=1;k=2 PING t");
  ASSERT_EQ(r.error, ParseError::kNone);
  ASSERT_EQ(r.message.tags.size(), 4u);
  EXPECT_EQ(*r.message.FindTag("time"), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(*r.message.FindTag("+example.com/x"), "a b;c\\d");
  EXPECT_EQ(*r.message.FindTag("flag"), "");
  EXPECT_EQ(*r.message.FindTag("k"), "2");
  EXPECT_EQ(r.message.command, "PING");
}

TEST(ParseLine, MalformedTagKeysAreDropped) {
  ParseResult r = ParseLine("@=x;b@d;+/y;ok=1;a_b=2 PING t");
  ASSERT_EQ(r.error, ParseError::kNone);
  ASSERT_EQ(r.message.tags.size(), 1u);
  EXPECT_EQ(r.message.tags[0].key, "ok");
}

TEST(ParseLine, EmptyAndCommandlessLines) {
  EXPECT_EQ(ParseLine("").error, ParseError::kEmpty);
  EXPECT_EQ(ParseLine("    ").error, ParseError::kEmpty);
  EXPECT_EQ(ParseLine(":prefix.only").error, ParseError::kNoCommand);
  EXPECT_EQ(ParseLine("@a=b").error, ParseError::kNoCommand);
  EXPECT_EQ(ParseLine("@a=b :pfx ").error, ParseError::kNoCommand);
}

TEST(ParseLine, BadCommands) {
  EXPECT_EQ(ParseLine("PRIV-MSG x").error, ParseError::kBadCommand);
  EXPECT_EQ(ParseLine("12 x").error, ParseError::kBadCommand);
  EXPECT_EQ(ParseLine("1234 x").error, ParseError::kBadCommand);
  EXPECT_EQ(ParseLine("\x01\x02 x").error, ParseError::kBadCommand);
  EXPECT_EQ(ParseLine("JOIN\t#x").error, ParseError::kBadCommand);
}

TEST(ParseLine, FifteenParamsAtMost) {
  std::string line = "CMD";
  for (int i = 0; i < 15; ++i) line += " p" + std::to_string(i);
  EXPECT_EQ(ParseLine(line).error, ParseError::kNone);
  EXPECT_EQ(ParseLine(line).message.params.size(), 15u);
  EXPECT_EQ(ParseLine(line + " :trailing too").error, ParseError::kTooManyParams);
  EXPECT_EQ(ParseLine(line + " p15").error, ParseError::kTooManyParams);
}

TEST(ParseLine, The512ByteLimitCountsCrLf) {
  // 510 bytes of line plus CR LF is exactly 512.
  std::string base = "PRIVMSG #c :";
  std::string fits = base + std::string(limits::kMaxLineBytes - 2 - base.size(), 'x');
  ASSERT_EQ(fits.size(), 510u);
  EXPECT_EQ(ParseLine(fits).error, ParseError::kNone);
  EXPECT_EQ(ParseLine(fits + "x").error, ParseError::kLineTooLong);
  // Tags do not count against the 512 bytes ...
  std::string tags = "@" + std::string(4000, 'a') + "=1 ";
  EXPECT_EQ(ParseLine(tags + fits).error, ParseError::kNone);
  // ... but have their own limit of 8191 bytes including '@' and the space.
  std::string max_tags = "@k=" + std::string(limits::kMaxTagsBytes - 4, 'v') + " ";
  ASSERT_EQ(max_tags.size(), limits::kMaxTagsBytes);
  EXPECT_EQ(ParseLine(max_tags + "PING x").error, ParseError::kNone);
  std::string over = "@k=" + std::string(limits::kMaxTagsBytes - 3, 'v') + " ";
  EXPECT_EQ(ParseLine(over + "PING x").error, ParseError::kTagsTooLong);
}

TEST(ParseLine, BytesAreKeptAsTheyAre) {
  ParseResult r = ParseLine(std::string("PRIVMSG #c :\xff\xfe bad utf8 \x01", 26));
  ASSERT_EQ(r.error, ParseError::kNone);
  EXPECT_EQ(r.message.params[1], std::string("\xff\xfe bad utf8 \x01", 14));
}

TEST(TagValue, EscapeRoundTrips) {
  std::string raw = "a;b c\\d\re\nf";
  EXPECT_EQ(EscapeTagValue(raw), "a\\:b\\sc\\\\d\\re\\nf");
  EXPECT_EQ(UnescapeTagValue(EscapeTagValue(raw)), raw);
  EXPECT_EQ(UnescapeTagValue("x\\"), "x");  // lone trailing backslash dropped
  EXPECT_EQ(UnescapeTagValue("\\q"), "q");  // unknown escape keeps the character
}

TEST(Render, TrailingOnlyWhenNeededOrAsked) {
  Message m;
  m.prefix = "nick!u@h";
  m.command = "JOIN";
  m.params = {"#chan"};
  EXPECT_EQ(Render(m), ":nick!u@h JOIN #chan\r\n");
  EXPECT_EQ(Render(m, true), ":nick!u@h JOIN :#chan\r\n");
  m.command = "PRIVMSG";
  m.params = {"#chan", "two words"};
  EXPECT_EQ(Render(m), ":nick!u@h PRIVMSG #chan :two words\r\n");
  m.params = {"#chan", ":colon"};
  EXPECT_EQ(Render(m), ":nick!u@h PRIVMSG #chan ::colon\r\n");
  m.params = {"#chan", ""};
  EXPECT_EQ(Render(m), ":nick!u@h PRIVMSG #chan :\r\n");
}

TEST(Render, NothingCanInjectALine) {
  Message m;
  m.command = "PRIVMSG";
  m.params = {"#chan", "one\r\nQUIT :x\0y"};
  m.params[1].push_back('\0');
  std::string out = Render(m);
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_EQ(out.find('\0'), std::string::npos);
}

TEST(Render, TagsAreEscapedAndParsedBack) {
  Message m;
  m.tags = {{"time", "2024-01-01T00:00:00.000Z"}, {"+x", "a b;c"}, {"flag", ""}};
  m.prefix = "s";
  m.command = "PRIVMSG";
  m.params = {"#c", "hi"};
  std::string out = Render(m);
  EXPECT_EQ(out, "@time=2024-01-01T00:00:00.000Z;+x=a\\sb\\:c;flag :s PRIVMSG #c hi\r\n");
  ParseResult back = ParseLine(out.substr(0, out.size() - 2));
  ASSERT_EQ(back.error, ParseError::kNone);
  EXPECT_EQ(*back.message.FindTag("+x"), "a b;c");
  EXPECT_EQ(back.message.params, m.params);
}

}  // namespace
}  // namespace lattice::irc
