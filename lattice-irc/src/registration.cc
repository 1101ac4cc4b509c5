// The registration state machine (see registration.h).
#include "registration.h"

#include "lattice/common/crypto.h"
#include "limits.h"
#include "utf8.h"

namespace lattice::irc {
namespace {

// USER names become the user part of hostmasks: keep them short and free of separators.
std::string CleanUser(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (out.size() == limits::kMaxUserBytes) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? std::string("user") : out;
}

}  // namespace

void Registration::OnUser(std::string_view user, std::string_view realname) {
  user_ = CleanUser(user);
  realname_ = std::string(TruncateUtf8(ScrubUtf8(realname), limits::kMaxRealnameBytes));
  has_user_ = true;
}

Registration::State Registration::state() const {
  if (registered_) return State::kRegistered;
  if (nick_.empty() || !has_user_ || cap_negotiating_) return State::kPending;
  if (!password_.empty() && !ConstantTimeEquals(password_, given_password_)) {
    return State::kPasswordMismatch;
  }
  return State::kReady;
}

}  // namespace lattice::irc
