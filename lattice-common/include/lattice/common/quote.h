// Echoing what a caller sent in a message for people: quoted, escaped and cut short, so a
// 10 kB name or a binary key neither floods a log line nor overflows gRPC's status metadata.
#pragma once

#include <string>
#include <string_view>

namespace lattice {

// `bytes` in double quotes: UTF-8 text as it is, quotes and backslashes escaped, control
// characters and bytes that are not UTF-8 as \xNN. Longer input is cut after
// limits::kMaxQuotedBytes bytes at a character boundary, and its length is said:
// "abc…" (10240 bytes).
std::string Quote(std::string_view bytes);

}  // namespace lattice
