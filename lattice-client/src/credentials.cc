#include "lattice/client/credentials.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "lattice/common/paths.h"

namespace lattice::client {
namespace {

constexpr size_t kMaxSecretBytes = 4096;

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
  int fd = ::open(cookie_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CookieError(cookie_path, std::strerror(errno));
  std::string content;
  char buffer[512];
  while (content.size() <= kMaxSecretBytes) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return CookieError(cookie_path, std::strerror(err));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (content.size() > kMaxSecretBytes) {
    return CookieError(cookie_path, fmt::format("larger than {} bytes", kMaxSecretBytes));
  }
  std::string cookie = Trim(content);
  if (cookie.empty()) return CookieError(cookie_path, "the file is empty");
  return cookie;
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
