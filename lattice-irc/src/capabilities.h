// IRCv3 capability negotiation (CAP LS 302 / LIST / REQ / END): the capabilities this
// gateway offers and the parsing of a client's request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lattice::irc {

enum Capability : uint32_t {
  kCapServerTime = 1u << 0,   // @time on messages, with the original time of stored ones
  kCapMessageTags = 1u << 1,  // @msgid (the message hash) and client-only tags
  kCapEchoMessage = 1u << 2,  // a client's own PRIVMSG/NOTICE come back to it
  kCapBatch = 1u << 3,        // history playback arrives in a chathistory batch
  // A command's "label" tag comes back on its reply, on a BATCH of its replies, or on ACK.
  kCapLabeledResponse = 1u << 4,
  // "draft/chathistory": CHATHISTORY on demand, and no automatic history on JOIN.
  kCapChatHistory = 1u << 5,
  // Every status prefix in NAMES, WHO and WHOIS ("@+nick"), not only the highest.
  kCapMultiPrefix = 1u << 12,
  // nick!user@host in NAMES (353).
  kCapUserhostInNames = 1u << 13,
  // AWAY from the users sharing a channel when they go away or come back, and after the
  // JOIN of a user who is away.
  kCapAwayNotify = 1u << 14,
  // The notifications above (away-notify) also for the nicks a client MONITORs, as if it
  // shared a channel with them.
  kCapExtendedMonitor = 1u << 15,
};
using CapSet = uint32_t;

inline constexpr CapSet kAllCaps = kCapServerTime | kCapMessageTags | kCapEchoMessage | kCapBatch |
                                   kCapLabeledResponse | kCapChatHistory | kCapMultiPrefix |
                                   kCapUserhostInNames | kCapAwayNotify | kCapExtendedMonitor;

// "server-time message-tags echo-message batch": the CAP LS / LIST payload.
std::string CapNames(CapSet caps);

struct CapRequest {
  bool ok = false;  // false: some name is unknown, the whole request is refused (NAK)
  CapSet enable = 0;
  CapSet disable = 0;  // "-name" entries
};

// Parses the space-separated list of a CAP REQ.
CapRequest ParseCapRequest(std::string_view list);

}  // namespace lattice::irc
