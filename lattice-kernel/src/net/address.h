// Peer addresses as operators write them: "HOST:PORT", "HOST", "[v6]:PORT".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "net/link_limits.h"

namespace lattice::kernel::net {

struct HostPort {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  uint16_t port = kDefaultPort;
};

// Parses `text`; a missing port means `default_port`. Port 0 is accepted (listen on an
// ephemeral port). INVALID_ARGUMENT with the reason for anything else.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text,
                                       uint16_t default_port = kDefaultPort);

// "host:port", with brackets around an IPv6 host.
std::string FormatHostPort(const HostPort& address);

}  // namespace lattice::kernel::net
