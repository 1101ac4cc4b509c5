// The tag a client of the Fs service puts on its calls (gRPC metadata kFsWriterMetadata) so
// that its own watch can leave out the changes those calls made (FsWatchRequest.skip_writer):
// 16 lowercase hex digits of a number other than 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lattice {

inline constexpr char kFsWriterMetadata[] = "lattice-fs-writer";

inline std::string FsWriterTagText(uint64_t tag) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, tag >>= 4) text[static_cast<size_t>(i)] = kDigits[tag & 0xf];
  return text;
}

// 0 when `text` is not a tag.
inline uint64_t ParseFsWriterTag(std::string_view text) {
  if (text.size() != 16) return 0;
  uint64_t tag = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return 0;
    tag = tag << 4 | static_cast<uint64_t>(digit);
  }
  return tag;
}

}  // namespace lattice
