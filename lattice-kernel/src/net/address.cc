#include "net/address.h"

#include <charconv>

#include "lattice/common/status.h"

namespace lattice::kernel::net {
namespace {

absl::StatusOr<uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      value > 65535) {
    return absl::InvalidArgumentError(
        fmt::format("address '{}': port '{}' is not a number from 0 to 65535", whole, text));
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(std::string_view text, uint16_t default_port) {
  HostPort out;
  out.port = default_port;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("address '{}': '[' without a closing ']'", text));
    }
    out.host = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return absl::InvalidArgumentError(
          fmt::format("address '{}': expected ':PORT' after ']'", text));
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return absl::InvalidArgumentError(fmt::format(
          "address '{}': write an IPv6 address in brackets, as [{}]:PORT", text, text));
    }
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) rest = text.substr(colon);
  }
  if (out.host.empty()) {
    return absl::InvalidArgumentError(fmt::format("address '{}': no host", text));
  }
  if (!rest.empty()) {
    auto port = ParsePort(rest.substr(1), text);
    if (!port.ok()) return port.status();
    out.port = *port;
  }
  return out;
}

std::string FormatHostPort(const HostPort& address) {
  if (address.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", address.host, address.port);
  }
  return fmt::format("{}:{}", address.host, address.port);
}

}  // namespace lattice::kernel::net
