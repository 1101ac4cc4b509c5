// Standard base64 (RFC 4648 §4, with padding), for bytes that travel in JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lattice {

std::string ToBase64(std::string_view bytes);
// nullopt unless `text` is valid padded standard base64 (no whitespace).
std::optional<std::string> FromBase64(std::string_view text);

}  // namespace lattice
