#include "errors.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "absl/strings/cord.h"

namespace lattice::ctl {
namespace {

constexpr char kUsagePayload[] = "type.lattice.dev/ctl.usage";
constexpr char kStdoutClosedPayload[] = "type.lattice.dev/ctl.stdout-closed";
constexpr char kPlainPayload[] = "type.lattice.dev/ctl.plain";

absl::Status Marked(absl::Status status, const char* payload_url) {
  status.SetPayload(payload_url, absl::Cord("1"));
  return status;
}

// Messages are one line on stderr, whatever the kernel or a parser put in them.
std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

absl::Status UsageError(const std::string& message) {
  return Marked(absl::InvalidArgumentError(message), kUsagePayload);
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status PlainError(absl::StatusCode code, const std::string& message) {
  return Marked(absl::Status(code, message), kPlainPayload);
}

bool IsPlainError(const absl::Status& status) {
  return status.GetPayload(kPlainPayload).has_value();
}

absl::Status StdoutClosedError() {
  return Marked(absl::CancelledError("stdout was closed"), kStdoutClosedPayload);
}

bool IsStdoutClosed(const absl::Status& status) {
  return status.GetPayload(kStdoutClosedPayload).has_value();
}

std::string DescribeStatus(const absl::Status& status) {
  std::string message(status.message());
  if (IsUsageError(status) || IsPlainError(status)) return OneLine(message);
  std::string code = absl::StatusCodeToString(status.code());
  std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) {
    return c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  });
  if (message.empty()) return code;
  return OneLine(code + ": " + message);
}

std::string DescribeStatusJson(const absl::Status& status) {
  nlohmann::json error{{"code", absl::StatusCodeToString(status.code())},
                       {"message", std::string(status.message())},
                       {"usage", IsUsageError(status)},
                       {"exit_code", ExitCodeFor(status)}};
  // Bytes a message quotes that are not UTF-8 are replaced rather than thrown about.
  return nlohmann::json{{"error", std::move(error)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok() || IsStdoutClosed(status)) return kExitOk;
  if (IsUsageError(status)) return kExitUsage;
  return kExitFailure;
}

}  // namespace lattice::ctl
