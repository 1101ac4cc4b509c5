#include "errors.h"

#include <gtest/gtest.h>

namespace lattice::ctl {
namespace {

TEST(DescribeStatus, CodeInWordsThenTheKernelsMessage) {
  EXPECT_EQ(DescribeStatus(absl::PermissionDeniedError("token may not write store s")),
            "permission denied: token may not write store s");
  EXPECT_EQ(DescribeStatus(absl::NotFoundError("greeting")), "not found: greeting");
  EXPECT_EQ(DescribeStatus(absl::ResourceExhaustedError("value too big")),
            "resource exhausted: value too big");
  EXPECT_EQ(DescribeStatus(absl::UnavailableError("")), "unavailable");
}

TEST(DescribeStatus, IsAlwaysOneLine) {
  std::string text = DescribeStatus(absl::InternalError("first\nsecond\n"));
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text, "internal: first second");
}

TEST(DescribeStatus, UsageErrorsShowOnlyTheirMessage) {
  EXPECT_EQ(DescribeStatus(UsageError("bad op")), "bad op");
}

TEST(ExitCodeFor, SuccessFailureUsage) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("k")), 1);
  // The kernel's INVALID_ARGUMENT is a failure, not a usage error.
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("key too long")), 1);
  EXPECT_EQ(ExitCodeFor(UsageError("bad")), 2);
  EXPECT_EQ(ExitCodeFor(StdoutClosedError()), 0);
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsStdoutClosed(absl::CancelledError("x")));
}

}  // namespace
}  // namespace lattice::ctl
