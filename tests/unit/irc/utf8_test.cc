#include "src/utf8.h"

#include <gtest/gtest.h>

#include "src/text_lines.h"

namespace lattice::irc {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii \x01 ctcp"));
  EXPECT_TRUE(IsValidUtf8("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x91\x8D"));  // ü € 👍
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                             // U+10FFFF
}

TEST(Utf8, RejectsIllFormedText) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(Utf8, ScrubReplacesMaximalSubparts) {
  EXPECT_EQ(ScrubUtf8("ok"), "ok");
  EXPECT_EQ(ScrubUtf8("a\xffz"), "a" + kFffd + "z");
  // A truncated 3-byte sequence is one maximal subpart: one replacement.
  EXPECT_EQ(ScrubUtf8("a\xE2\x82z"), "a" + kFffd + "z");
  // Two stray continuation bytes are two.
  EXPECT_EQ(ScrubUtf8("\x80\x80"), kFffd + kFffd);
  EXPECT_EQ(ScrubUtf8(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_TRUE(IsValidUtf8(ScrubUtf8("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST(Utf8, TruncateNeverCutsASequence) {
  std::string text = "ab\xE2\x82\xAC";  // "ab€"
  EXPECT_EQ(TruncateUtf8(text, 5), text);
  EXPECT_EQ(TruncateUtf8(text, 4), "ab");
  EXPECT_EQ(TruncateUtf8(text, 3), "ab");
  EXPECT_EQ(TruncateUtf8(text, 2), "ab");
  EXPECT_EQ(TruncateUtf8(text, 1), "a");
}

TEST(SplitForIrc, OneLinePerLineOfTextEachWithinTheLimit) {
  auto pieces = SplitForIrc("first\r\nsecond\n\nthird\rQUIT :injected", 100);
  EXPECT_EQ(pieces, (std::vector<std::string>{"first", "second", "third", "QUIT :injected"}));
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "word\xE2\x82\xAC ";
  for (const auto& piece : SplitForIrc(long_text, 50)) {
    EXPECT_LE(piece.size(), 50u);
    EXPECT_TRUE(IsValidUtf8(piece)) << piece;
  }
  EXPECT_EQ(SplitForIrc("", 50), (std::vector<std::string>{""}));
}

TEST(FormatServerTime, MillisecondsInUtc) {
  EXPECT_EQ(FormatServerTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatServerTime(1714566896789), "2024-05-01T12:34:56.789Z");
}

}  // namespace
}  // namespace lattice::irc
