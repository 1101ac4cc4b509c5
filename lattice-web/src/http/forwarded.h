// Who the client is when lattice-web runs behind a reverse proxy: X-Forwarded-For, -Proto and
// -Host are believed only when the peer is a configured proxy (ServerOptions::trusted_proxies).
#pragma once

#include <absl/status/statusor.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "src/http/request.h"

namespace lattice::web::http {

// A set of addresses and networks (v4 and v6 CIDRs). An IPv4-mapped IPv6 address ("::ffff:a.b.c.d",
// what a dual-stack listener reports) is the IPv4 address it maps. Immutable, so thread-safe.
class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Parses entries such as "10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8". The error names the
  // entry that is neither.
  static absl::StatusOr<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool Contains(const boost::asio::ip::address& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    std::array<uint8_t, 16> bytes{};
    int prefix_bits = 0;
    bool v4 = false;
  };
  std::vector<Network> networks_;
};

// Sets request.client_address, scheme and host for a request received from `peer`:
// - from an untrusted peer: the peer's address, "http" and the Host header;
// - from a trusted proxy: the client is the right-most X-Forwarded-For address that is not
//   itself a trusted proxy (every header of that name, in order, is one list); scheme and host
//   come from X-Forwarded-Proto ("http" or "https") and X-Forwarded-Host when present and valid.
void ResolveClient(const TrustedProxies& proxies, const boost::asio::ip::address& peer,
                   Request& request);

// An address as written in X-Forwarded-For: "1.2.3.4", "1.2.3.4:5678", "::1" or "[::1]:5678".
std::optional<boost::asio::ip::address> ParseForwardedAddress(std::string_view text);

}  // namespace lattice::web::http
