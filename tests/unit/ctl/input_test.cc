#include "input.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace lattice::ctl {
namespace {

std::FILE* FileWith(const std::string& content) {
  std::FILE* file = std::tmpfile();
  std::fwrite(content.data(), 1, content.size(), file);
  std::rewind(file);
  return file;
}

TEST(ReadStream, IsBinarySafe) {
  std::string content("a\0b\xff\n", 5);
  std::FILE* file = FileWith(content);
  auto data = ReadStream(file, 100, "stdin");
  std::fclose(file);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, content);
}

TEST(ReadStream, ReadsExactlyTheLimitButNotMore) {
  std::FILE* file = FileWith(std::string(200'000, 'x'));
  auto at_limit = ReadStream(file, 200'000, "stdin");
  std::fclose(file);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->size(), 200'000u);

  file = FileWith(std::string(200'001, 'x'));
  auto over = ReadStream(file, 200'000, "the value on stdin");
  std::fclose(file);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(), "the value on stdin is larger than the 200000 byte limit");
}

TEST(ReadFileOrStdin, MissingFileIsNotFoundAndNamed) {
  auto data = ReadFileOrStdin("/nonexistent/intentions.hex", 100);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(data.status().message()).find("/nonexistent/intentions.hex"),
            std::string::npos);
}

}  // namespace
}  // namespace lattice::ctl
