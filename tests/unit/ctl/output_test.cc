#include "output.h"

#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include "errors.h"

namespace lattice::ctl {
namespace {

TEST(IsValidUtf8, AcceptsUtf8AndRejectsEverythingElse) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x91\x8d"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(EscapeForLine, KeepsTextAndEscapesWhatWouldBreakALine) {
  EXPECT_EQ(EscapeForLine("hello world"), "hello world");
  EXPECT_EQ(EscapeForLine("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeForLine("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(EscapeForLine("back\\slash"), "back\\\\slash");
  EXPECT_EQ(EscapeForLine(std::string("\x00\x01\x7f\xff", 4)), "\\x00\\x01\\x7f\\xff");
}

TEST(SetBytes, Utf8IsAStringAndBinaryIsHexWithAMarker) {
  nlohmann::json object = nlohmann::json::object();
  SetBytes(object, "key", "users/alice");
  SetBytes(object, "value", std::string("\x00\xff", 2));
  EXPECT_EQ(object["key"], "users/alice");
  EXPECT_FALSE(object.contains("key_encoding"));
  EXPECT_EQ(object["value"], "00ff");
  EXPECT_EQ(object["value_encoding"], "hex");
  EXPECT_EQ(BytesJson("a/"), "a/");
  EXPECT_EQ(BytesJson("\xfe"), (nlohmann::json{{"hex", "fe"}}));
}

TEST(DumpJson, IsOneLineAndNeverThrows) {
  nlohmann::json doc = {{"a", 1}, {"b", "two"}, {"bad", std::string("\xff")}};
  std::string text = DumpJson(doc);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NE(text.find("\"a\":1"), std::string::npos);
}

TEST(FormatTime, UtcIsoAndHlc) {
  EXPECT_EQ(FormatTimeMs(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeMs(1700000000123), "2023-11-14T22:13:20Z");
  v1::Hlc hlc;
  hlc.set_wall_ms(1700000000123);
  hlc.set_counter(4);
  EXPECT_EQ(FormatHlc(hlc), "2023-11-14T22:13:20.123Z+4");
  EXPECT_EQ(HlcJson(hlc), (nlohmann::json{{"wall_ms", 1700000000123ull}, {"counter", 4}}));
}

TEST(FormatDurationMs, ReadsLikeAnUptime) {
  EXPECT_EQ(FormatDurationMs(850), "850ms");
  EXPECT_EQ(FormatDurationMs(5'000), "5s");
  EXPECT_EQ(FormatDurationMs(120'000), "2m 0s");
  EXPECT_EQ(FormatDurationMs(3'723'000), "1h 2m 3s");
  EXPECT_EQ(FormatDurationMs(2 * 86'400'000ull + 3'600'000), "2d 1h 0m 0s");
}

TEST(FormatAgoMs, TheLargestWholeUnitBeforeNow) {
  const uint64_t now = 1'700'000'000'000;
  EXPECT_EQ(FormatAgoMs(0, now), "never");
  EXPECT_EQ(FormatAgoMs(now, now), "just now");
  EXPECT_EQ(FormatAgoMs(now - 999, now), "just now");
  EXPECT_EQ(FormatAgoMs(now + 60'000, now), "just now");  // another node's clock ahead
  EXPECT_EQ(FormatAgoMs(now - 1'000, now), "1s ago");
  EXPECT_EQ(FormatAgoMs(now - 59'999, now), "59s ago");
  EXPECT_EQ(FormatAgoMs(now - 60'000, now), "1m ago");
  EXPECT_EQ(FormatAgoMs(now - 3'599'000, now), "59m ago");
  EXPECT_EQ(FormatAgoMs(now - 3'600'000, now), "1h ago");
  EXPECT_EQ(FormatAgoMs(now - 47 * 3'600'000ull, now), "47h ago");
  EXPECT_EQ(FormatAgoMs(now - 48 * 3'600'000ull, now), "2d ago");
}

TEST(FormatTable, AlignsColumnsWithoutTrailingSpaces) {
  std::string table = FormatTable({"ID", "NAME"}, {{"1", "notes"}, {"1234", ""}});
  EXPECT_EQ(table, "ID    NAME\n1     notes\n1234\n");
}

TEST(FormatFields, AlignsValues) {
  EXPECT_EQ(FormatFields({{"node id", "abc"}, {"uptime", "5s"}}),
            "node id: abc\nuptime:  5s\n");
}

TEST(Printer, WritesBytesLinesAndJson) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Printer printer(out, stderr, false);
  ASSERT_TRUE(printer.Write(std::string("a\0b", 3)).ok());
  ASSERT_TRUE(printer.Line("line").ok());
  ASSERT_TRUE(printer.Json({{"k", 1}}, true).ok());
  std::rewind(out);
  char buffer[64] = {};
  size_t n = std::fread(buffer, 1, sizeof buffer, out);
  std::fclose(out);
  EXPECT_EQ(std::string(buffer, n), std::string("a\0b", 3) + "line\n{\"k\":1}\n");
}

TEST(Printer, AClosedReaderIsReportedAsStdoutClosed) {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  std::FILE* out = ::fdopen(fds[1], "w");
  ASSERT_NE(out, nullptr);
  Printer printer(out, stderr, false);
  absl::Status status = printer.Line("nobody reads this", /*flush=*/true);
  std::fclose(out);
  EXPECT_TRUE(IsStdoutClosed(status)) << status;
  EXPECT_EQ(ExitCodeFor(status), 0);
}

}  // namespace
}  // namespace lattice::ctl
