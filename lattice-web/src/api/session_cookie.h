// The browser session: the token itself in an HttpOnly, SameSite=Strict cookie (lattice-web
// keeps no session state, so a restart logs nobody out), and the checks that keep another
// site from using it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/http/request.h"

namespace lattice::web {

inline constexpr std::string_view kSessionCookie = "lattice_session";

bool IsCookieSafe(std::string_view token);
std::string SessionCookie(const std::string& token, bool secure);
std::string ExpiredSessionCookie(bool secure);

// The session token in the request's Cookie header, if any.
std::optional<std::string> SessionTokenOf(const http::Request& request);

// Whether a cookie-authenticated request that changes something comes from a page of this
// very origin: its Origin header names the host it was sent to. (SameSite=Strict already
// keeps the cookie off cross-site requests; this guards older browsers and sibling hosts.)
bool IsSameOrigin(const http::Request& request);

}  // namespace lattice::web
