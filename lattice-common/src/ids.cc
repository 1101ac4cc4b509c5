#include "lattice/common/ids.h"

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"

namespace lattice {

std::string NewStoreId() {
  std::string id = RandomBytes(kStoreIdBytes);
  id[6] = static_cast<char>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<char>((id[8] & 0x3f) | 0x80);
  return id;
}

std::string FormatStoreId(std::string_view raw) {
  std::string hex = ToHex(raw);
  if (hex.size() != 32) return hex;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::optional<std::string> ParseStoreId(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string hex;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (text[i] == '-')) return std::nullopt;
    if (!dash_position) hex.push_back(text[i]);
  }
  return FromHex(hex);
}

namespace {
std::optional<std::string> ParseFixedHex(std::string_view hex, size_t bytes) {
  if (hex.size() != bytes * 2) return std::nullopt;
  return FromHex(hex);
}
}  // namespace

std::optional<std::string> ParseNodeId(std::string_view hex) {
  return ParseFixedHex(hex, kNodeIdBytes);
}

std::optional<std::string> ParseHash(std::string_view hex) {
  return ParseFixedHex(hex, kHashBytes);
}

}  // namespace lattice
