// Identifiers of the data model: 16-byte store ids shown as canonical UUIDs,
// 32-byte node ids and intention hashes shown as lowercase hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lattice {

inline constexpr size_t kStoreIdBytes = 16;
inline constexpr size_t kNodeIdBytes = 32;
inline constexpr size_t kHashBytes = 32;

// A fresh random version-4 UUID (16 raw bytes).
std::string NewStoreId();

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" from 16 raw bytes.
std::string FormatStoreId(std::string_view raw);

// The 16 raw bytes of a canonical UUID string; nullopt for anything else.
std::optional<std::string> ParseStoreId(std::string_view text);

// 32 raw bytes from 64 hex digits; nullopt for anything else.
std::optional<std::string> ParseNodeId(std::string_view hex);
std::optional<std::string> ParseHash(std::string_view hex);

}  // namespace lattice
