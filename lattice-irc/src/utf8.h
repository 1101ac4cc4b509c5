// UTF-8 checks for what clients send: the chat store keeps text as UTF-8 (protobuf strings
// must be), so invalid sequences are replaced before anything reaches the kernel.
#pragma once

#include <string>
#include <string_view>

namespace lattice::irc {

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF) without NUL bytes.
bool IsValidUtf8(std::string_view text);

// `text` with each maximal ill-formed subsequence (Unicode §3.9, "substitution of maximal
// subparts") and each NUL replaced by U+FFFD.
std::string ScrubUtf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8
// sequence. REQUIRES: `text` is valid UTF-8.
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace lattice::irc
