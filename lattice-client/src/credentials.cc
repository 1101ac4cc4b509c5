#include "lattice/client/credentials.h"

#include <cstdlib>

#include <fmt/format.h>

#include "lattice/common/files.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"

namespace lattice::client {
namespace {

absl::Status CookieError(const std::string& path, const std::string& reason) {
  return absl::UnauthenticatedError(
      fmt::format("cannot read admin cookie at {}: {}; pass --token or run as the kernel's user",
                  path, reason));
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string Trim(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

absl::StatusOr<std::string> ReadAdminCookie(const std::string& cookie_path) {
  auto content = ReadFileBounded(cookie_path, limits::kMaxSecretFileBytes);
  if (!content.ok()) return CookieError(cookie_path, std::string(content.status().message()));
  std::string cookie = Trim(*content);
  if (cookie.empty()) return CookieError(cookie_path, "the file is empty");
  return cookie;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  auto content = ReadFileBounded(path, limits::kMaxSecretFileBytes);
  if (!content.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("cannot read the token file: {}", std::string(content.status().message())));
  }
  std::string token = Trim(*content);
  if (token.empty()) return absl::InvalidArgumentError(fmt::format("the token file {} is empty", path));
  return token;
}

absl::StatusOr<std::string> ResolveSecret(const std::string& token,
                                          const std::string& socket_path) {
  std::string secret;
  if (!token.empty()) {
    secret = Trim(token);
    if (secret.empty()) return absl::InvalidArgumentError("the token is blank");
  } else {
    auto cookie = ReadAdminCookie(CookiePathForSocket(socket_path));
    if (!cookie.ok()) return cookie.status();
    secret = std::move(*cookie);
  }
  // gRPC only carries printable ASCII in a text header.
  for (char c : secret) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(fmt::format(
          "the {} holds a byte (0x{:02x}) that cannot be sent in a header",
          token.empty() ? "admin cookie" : "token", static_cast<unsigned char>(c)));
    }
  }
  return secret;
}

std::string TokenFromEnvironment() {
  const char* value = std::getenv("LATTICE_TOKEN");
  if (value != nullptr && *value != '\0') return value;
  // systemd's LoadCredential=token:... (deploy/systemd/lattice-irc@.service).
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  if (credentials == nullptr || *credentials == '\0') return {};
  auto token = ReadAdminCookie(std::string(credentials) + "/token");
  return token.ok() ? *token : std::string();
}

}  // namespace lattice::client
