// Trusted proxies and X-Forwarded-* resolution.
#include "src/http/forwarded.h"

#include <absl/status/status.h>
#include <fmt/format.h>

#include <charconv>

namespace lattice::web::http {
namespace {

namespace ip = boost::asio::ip;

ip::address Unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> ParseAddress(std::string_view text) {
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return Unmapped(address);
}

// Splits a comma-separated header list into trimmed, non-empty items.
std::vector<std::string_view> ListItems(std::string_view value) {
  std::vector<std::string_view> items;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return items;
}

// A forwarded host must look like a host[:port] (no spaces, controls, slashes or '@'), so a
// client's junk never becomes a URL the handlers build.
bool IsPlausibleHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies proxies;
  for (const std::string& entry : entries) {
    std::string_view text = Trim(entry);
    std::string_view address_text = text;
    int prefix_bits = -1;
    if (size_t slash = text.find('/'); slash != std::string_view::npos) {
      address_text = text.substr(0, slash);
      std::string_view bits = text.substr(slash + 1);
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix_bits);
      if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty()) {
        return absl::InvalidArgumentError(
            fmt::format("trusted proxy \"{}\": \"{}\" is not a prefix length", entry, bits));
      }
    }
    auto address = ParseAddress(address_text);
    if (!address) {
      return absl::InvalidArgumentError(fmt::format(
          "trusted proxy \"{}\" is neither an IP address nor a network in CIDR notation", entry));
    }
    Network network;
    network.v4 = address->is_v4();
    int max_bits = network.v4 ? 32 : 128;
    if (prefix_bits < 0) prefix_bits = max_bits;
    if (prefix_bits > max_bits) {
      return absl::InvalidArgumentError(fmt::format(
          "trusted proxy \"{}\": prefix length {} exceeds {}", entry, prefix_bits, max_bits));
    }
    network.prefix_bits = prefix_bits;
    if (network.v4) {
      auto bytes = address->to_v4().to_bytes();
      std::copy(bytes.begin(), bytes.end(), network.bytes.begin());
    } else {
      network.bytes = address->to_v6().to_bytes();
    }
    proxies.networks_.push_back(network);
  }
  return proxies;
}

bool TrustedProxies::Contains(const ip::address& raw) const {
  ip::address address = Unmapped(raw);
  std::array<uint8_t, 16> bytes{};
  if (address.is_v4()) {
    auto v4 = address.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), bytes.begin());
  } else {
    bytes = address.to_v6().to_bytes();
  }
  for (const Network& network : networks_) {
    if (network.v4 != address.is_v4()) continue;
    int bits = network.prefix_bits;
    bool match = true;
    for (int i = 0; bits > 0 && match; ++i, bits -= 8) {
      uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
      match = (bytes[i] & mask) == (network.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::optional<ip::address> ParseForwardedAddress(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return ParseAddress(text.substr(1, close - 1));
  }
  if (auto address = ParseAddress(text)) return address;
  // "1.2.3.4:5678": one colon means an IPv4 address with a port (IPv6 has several).
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    auto address = ParseAddress(text.substr(0, colon));
    if (address && address->is_v4()) return address;
  }
  return std::nullopt;
}

void ResolveClient(const TrustedProxies& proxies, const ip::address& peer, Request& request) {
  ip::address client = Unmapped(peer);
  request.client_address = client.to_string();
  request.scheme = "http";
  request.host = std::string(request.Header("Host").value_or(""));
  if (proxies.empty() || !proxies.Contains(client)) return;

  std::vector<std::string_view> hops;
  for (const auto& [name, value] : request.headers) {
    if (!EqualsIgnoringCase(name, "X-Forwarded-For")) continue;
    for (std::string_view item : ListItems(value)) hops.push_back(item);
  }
  // Walk from the nearest hop outwards: each trusted proxy vouches for the address to its
  // left; the first hop that is not a trusted proxy is the client. An unreadable hop ends the
  // walk, and the last hop a trusted proxy named stands as the client.
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    auto address = ParseForwardedAddress(*hop);
    if (!address) break;
    client = *address;
    if (!proxies.Contains(client)) break;
  }
  request.client_address = client.to_string();

  if (auto proto = request.Header("X-Forwarded-Proto")) {
    auto items = ListItems(*proto);
    if (!items.empty()) {
      if (EqualsIgnoringCase(items.front(), "https")) {
        request.scheme = "https";
      } else if (EqualsIgnoringCase(items.front(), "http")) {
        request.scheme = "http";
      }
    }
  }
  if (auto host = request.Header("X-Forwarded-Host")) {
    auto items = ListItems(*host);
    if (!items.empty() && IsPlausibleHost(items.front())) request.host = std::string(items.front());
  }
}

}  // namespace lattice::web::http
