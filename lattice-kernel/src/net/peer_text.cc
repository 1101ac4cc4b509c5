#include "net/peer_text.h"

#include "net/link_limits.h"

namespace lattice::kernel::net {

std::string PeerText(std::string_view text) {
  if (text.size() > kMaxCloseReasonBytes) {
    size_t cut = kMaxCloseReasonBytes;
    // Back off over UTF-8 continuation bytes so a character is not split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  std::string out(text);
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace lattice::kernel::net
