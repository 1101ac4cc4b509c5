#include "src/line_reader.h"

#include <gtest/gtest.h>

namespace lattice::irc {
namespace {

std::vector<std::string> Drain(LineReader& reader, int* too_long = nullptr) {
  std::vector<std::string> lines;
  std::string line;
  while (true) {
    LineReader::Next next = reader.Pop(&line);
    if (next == LineReader::Next::kNone) break;
    if (next == LineReader::Next::kTooLong) {
      if (too_long) ++*too_long;
      continue;
    }
    lines.push_back(line);
  }
  return lines;
}

TEST(LineReader, SplitsOnCrLfLfAndCrAndSkipsEmptyLines) {
  LineReader reader;
  reader.Append("NICK a\r\nUSER b\nPING c\rPONG d\r\n\r\n\n");
  EXPECT_EQ(Drain(reader), (std::vector<std::string>{"NICK a", "USER b", "PING c", "PONG d"}));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(LineReader, KeepsPartialLinesAcrossReads) {
  LineReader reader;
  reader.Append("PRIV");
  EXPECT_TRUE(Drain(reader).empty());
  reader.Append("MSG #c :hi\r");
  EXPECT_EQ(Drain(reader), (std::vector<std::string>{"PRIVMSG #c :hi"}));
  reader.Append("\nNEXT");
  EXPECT_TRUE(Drain(reader).empty());
  EXPECT_EQ(reader.buffered(), 4u);
}

TEST(LineReader, OverlongLineIsReportedOnceAndDiscardedWhileItStreams) {
  LineReader reader(100);
  int too_long = 0;
  reader.Append(std::string(150, 'x'));
  EXPECT_TRUE(Drain(reader, &too_long).empty());
  EXPECT_EQ(too_long, 1);
  EXPECT_EQ(reader.buffered(), 0u);  // nothing of it is kept
  reader.Append(std::string(5000, 'y'));
  EXPECT_TRUE(Drain(reader, &too_long).empty());
  EXPECT_EQ(reader.buffered(), 0u);
  reader.Append("tail\r\nPING ok\r\n");
  EXPECT_EQ(Drain(reader, &too_long), (std::vector<std::string>{"PING ok"}));
  EXPECT_EQ(too_long, 1);
}

TEST(LineReader, OverlongCompleteLineBetweenGoodOnes) {
  LineReader reader(10);
  int too_long = 0;
  reader.Append("short\r\n" + std::string(11, 'z') + "\r\nafter\r\n");
  EXPECT_EQ(Drain(reader, &too_long), (std::vector<std::string>{"short", "after"}));
  EXPECT_EQ(too_long, 1);
}

TEST(LineReader, ExactlyTheLimitIsAccepted) {
  LineReader reader(10);
  reader.Append(std::string(10, 'a') + "\n");
  EXPECT_EQ(Drain(reader), (std::vector<std::string>{std::string(10, 'a')}));
}

}  // namespace
}  // namespace lattice::irc
