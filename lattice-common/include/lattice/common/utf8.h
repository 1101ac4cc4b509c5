// UTF-8 validity, one character at a time, for code that prints or echoes bytes it was given.
#pragma once

#include <cstddef>
#include <string_view>

namespace lattice {

// Length of the valid UTF-8 sequence starting at bytes[i] (1 for ASCII), or 0 when it is not
// one: overlong forms, surrogates, code points above U+10FFFF and truncated sequences are not.
// REQUIRES: i < bytes.size().
size_t Utf8SequenceLength(std::string_view bytes, size_t i);

// Whether all of `bytes` is valid UTF-8 (by the same rules).
bool IsValidUtf8(std::string_view bytes);

}  // namespace lattice
