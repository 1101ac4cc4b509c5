// Text that came from outside (mesh data, a daemon's output) made safe for one line of a
// message or log: cut to a readable length, control and non-ASCII bytes replaced.
#pragma once

#include <string>
#include <string_view>

namespace lattice::services {

// At most `max_bytes` of `text`, each byte outside printable ASCII as '?', and "..." when cut.
inline std::string PrintableExcerpt(std::string_view text, size_t max_bytes = 64) {
  std::string out;
  for (unsigned char c : text.substr(0, max_bytes)) {
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace lattice::services
