// How lattice-ctl classifies failures: usage errors (exit 2), a closed stdout (a reader such
// as `head` went away: quiet exit), and everything else (exit 1 with one line on stderr).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace lattice::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// INVALID_ARGUMENT marked as the user's command line being wrong (exit 2), as opposed to the
// kernel rejecting a request (exit 1).
absl::Status UsageError(const std::string& message);
bool IsUsageError(const absl::Status& status);

// The reader of our stdout closed it (EPIPE).
absl::Status StdoutClosedError();
bool IsStdoutClosed(const absl::Status& status);

// A failure whose message already says everything a person needs, e.g. "fs ls docs /nope: no
// such file or directory (ENOENT)": shown without the code in words (exit 1 all the same).
absl::Status PlainError(absl::StatusCode code, const std::string& message);
bool IsPlainError(const absl::Status& status);

// "<code in words>: <message>", e.g. "permission denied: token may not write to store x".
// Usage errors and plain errors are shown without the code.
std::string DescribeStatus(const absl::Status& status);

// The same as one line of JSON, for --json:
// {"error":{"code":"NOT_FOUND","message":"...","usage":false,"exit_code":1}}.
std::string DescribeStatusJson(const absl::Status& status);

// The exit code for `status`: 0, 1 or 2.
int ExitCodeFor(const absl::Status& status);

}  // namespace lattice::ctl
