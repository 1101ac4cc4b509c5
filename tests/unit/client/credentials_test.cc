#include "lattice/client/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fake_kernel.h"
#include "lattice/common/paths.h"

namespace lattice::client {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = lattice::testing::MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    socket_ = dir_ + "/kernel.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteCookie(const std::string& content) {
    std::ofstream(CookiePathForSocket(socket_), std::ios::binary | std::ios::trunc) << content;
  }

  std::string dir_;
  std::string socket_;
};

TEST_F(CredentialsTest, CookieIsReadFromBesideTheSocketAndTrimmed) {
  WriteCookie("  3f2a9c\r\n\n");
  auto secret = ResolveSecret("", socket_);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "3f2a9c");
}

TEST_F(CredentialsTest, TokenWinsOverTheCookie) {
  WriteCookie("cookie");
  auto secret = ResolveSecret("svc-token\n", socket_);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "svc-token");
}

TEST_F(CredentialsTest, TokenNeedsNoCookie) {
  auto secret = ResolveSecret("svc-token", socket_);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "svc-token");
}

TEST_F(CredentialsTest, MissingCookieSaysWhereItLookedAndWhatToDo) {
  auto secret = ResolveSecret("", socket_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kUnauthenticated);
  std::string message(secret.status().message());
  EXPECT_NE(message.find("cannot read admin cookie at " + dir_ + "/admin.cookie"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  EXPECT_NE(message.find("pass --token or run as the kernel's user"), std::string::npos)
      << message;
}

TEST_F(CredentialsTest, UnreadableCookieIsAClearError) {
  // A directory where the cookie should be: unreadable even for root.
  std::filesystem::create_directory(CookiePathForSocket(socket_));
  auto secret = ResolveSecret("", socket_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kUnauthenticated);
  std::string message(secret.status().message());
  EXPECT_NE(message.find("cannot read admin cookie at"), std::string::npos) << message;
  EXPECT_NE(message.find("Is a directory"), std::string::npos) << message;
}

TEST_F(CredentialsTest, EmptyCookieIsRejected) {
  WriteCookie(" \n");
  auto secret = ResolveSecret("", socket_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(secret.status().message()).find("empty"), std::string::npos);
}

TEST_F(CredentialsTest, SecretsThatCannotTravelInAHeaderAreRejected) {
  auto secret = ResolveSecret(std::string("abc\x01" "def"), socket_);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(secret.status().message()).find("0x01"), std::string::npos);
}

TEST_F(CredentialsTest, TokenFromEnvironmentReadsLatticeToken) {
  ::setenv("LATTICE_TOKEN", "env-token", 1);
  EXPECT_EQ(TokenFromEnvironment(), "env-token");
  ::unsetenv("LATTICE_TOKEN");
  EXPECT_EQ(TokenFromEnvironment(), "");
}

}  // namespace
}  // namespace lattice::client
