// The registration of one connection (RFC 2812 §3.1, IRCv3 capability negotiation): which of
// PASS, NICK, USER and CAP have been seen, and whether the connection may be welcomed.
// It decides only; the server sends the numerics.
#pragma once

#include <string>
#include <string_view>

namespace lattice::irc {

// Plain value owned by one client on the event loop.
class Registration {
 public:
  // `password` empty: no PASS is required.
  explicit Registration(std::string password = "") : password_(std::move(password)) {}

  enum class State {
    kPending,           // still waiting for NICK, USER or CAP END
    kReady,             // everything is in: welcome the client (once)
    kPasswordMismatch,  // everything is in but PASS is missing or wrong: 464 and close
    kRegistered,        // welcomed
  };

  // REQUIRES: not registered. PASS may repeat before registration; the last one counts.
  void OnPass(std::string_view password) { given_password_ = std::string(password); }
  // REQUIRES: `nick` is valid and free (the server checks).
  void OnNick(std::string_view nick) { nick_ = std::string(nick); }
  void OnUser(std::string_view user, std::string_view realname);
  // CAP LS or CAP REQ before registration suspends it until CAP END (IRCv3).
  void OnCapStart() {
    if (!registered_) cap_negotiating_ = true;
  }
  void OnCapEnd() { cap_negotiating_ = false; }
  // The server welcomed the client.
  void MarkRegistered() { registered_ = true; }

  State state() const;
  bool registered() const { return registered_; }
  bool has_user() const { return has_user_; }
  const std::string& nick() const { return nick_; }
  const std::string& user() const { return user_; }
  const std::string& realname() const { return realname_; }

 private:
  std::string password_;
  std::string given_password_;
  std::string nick_;
  std::string user_;
  std::string realname_;
  bool has_user_ = false;
  bool cap_negotiating_ = false;
  bool registered_ = false;
};

}  // namespace lattice::irc
