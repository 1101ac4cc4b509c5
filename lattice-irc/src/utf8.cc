// UTF-8 validation and repair (see utf8.h).
#include "utf8.h"

namespace lattice::irc {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// The length of the well-formed sequence at the start of `s`, or 0 when it is ill-formed;
// `*maximal` receives the length of the maximal ill-formed subpart to replace.
size_t SequenceLength(std::string_view s, size_t* maximal) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  *maximal = 1;
  if (b0 == 0) return 0;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  for (size_t i = 1; i < need; ++i) {
    if (i >= s.size()) return 0;
    unsigned char b = byte(i);
    unsigned char min = i == 1 ? lo : 0x80;
    unsigned char max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    *maximal = i + 1;
  }
  return need;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t maximal;
    size_t n = SequenceLength(text.substr(pos), &maximal);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string ScrubUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t maximal;
    size_t n = SequenceLength(text.substr(pos), &maximal);
    if (n == 0) {
      out += kReplacement;
      pos += maximal;
    } else {
      out.append(text.data() + pos, n);
      pos += n;
    }
  }
  return out;
}

std::string_view TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Step back over continuation bytes to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace lattice::irc
