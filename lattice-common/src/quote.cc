#include "lattice/common/quote.h"

#include <fmt/format.h>

#include "lattice/common/limits.h"
#include "lattice/common/utf8.h"

namespace lattice {

std::string Quote(std::string_view bytes) {
  std::string out = "\"";
  size_t i = 0;
  while (i < bytes.size() && i < limits::kMaxQuotedBytes) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t length = c >= 0x80 ? Utf8SequenceLength(bytes, i) : 0; length > 0) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  if (i < bytes.size()) return fmt::format("{}…\" ({} bytes)", out, bytes.size());
  return out + "\"";
}

}  // namespace lattice
