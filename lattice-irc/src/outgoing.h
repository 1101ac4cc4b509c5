// A message the server sends to one or many clients. Its tags depend on what each client
// negotiated (server-time, message-tags, batch), so it is rendered once per combination
// that makes a difference and reused for every recipient with that combination.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capabilities.h"
#include "message.h"

namespace lattice::irc {

class Outgoing {
 public:
  // `time_ms` (Unix ms) becomes @time for server-time clients; `msgid` and `client_tags`
  // are sent to message-tags clients; `batch` to batch clients.
  explicit Outgoing(Message message, bool trailing = true, uint64_t time_ms = 0,
                    std::string msgid = "", std::string batch = "",
                    std::vector<Tag> client_tags = {});

  const std::string& For(CapSet caps);

 private:
  Message message_;
  bool trailing_;
  uint64_t time_ms_;
  std::string msgid_;
  std::string batch_;
  std::vector<Tag> client_tags_;
  std::array<std::optional<std::string>, 8> rendered_;
};

}  // namespace lattice::irc
