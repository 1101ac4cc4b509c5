// Lowercase hexadecimal encoding of byte strings (node ids, hashes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lattice {

std::string ToHex(std::string_view bytes);

// Returns nullopt unless `hex` has an even length and only hex digits (either case).
std::optional<std::string> FromHex(std::string_view hex);

// First `n` hex digits followed by an ellipsis, for log lines and messages.
std::string ShortHex(std::string_view bytes, size_t n = 8);

}  // namespace lattice
