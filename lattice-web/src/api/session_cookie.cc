#include "src/api/session_cookie.h"

#include <strings.h>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace lattice::web {

bool IsCookieSafe(std::string_view token) {
  if (token.empty() || token.size() > 512) return false;
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

std::string SessionCookie(const std::string& token, bool secure) {
  return std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

std::string ExpiredSessionCookie(bool secure) {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
         (secure ? "; Secure" : "");
}

std::optional<std::string> SessionTokenOf(const http::Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (name.size() != 6 || strncasecmp(name.c_str(), "cookie", 6) != 0) continue;
    for (absl::string_view part : absl::StrSplit(value, ';')) {
      part = absl::StripAsciiWhitespace(part);
      if (absl::ConsumePrefix(&part, std::string(kSessionCookie) + "=")) {
        std::string token(part.data(), part.size());
        if (IsCookieSafe(token)) return token;
      }
    }
  }
  return std::nullopt;
}

bool IsSameOrigin(const http::Request& request) {
  auto origin = request.Header("Origin");
  if (!origin) return false;
  return *origin == request.scheme + "://" + request.host;
}

}  // namespace lattice::web
