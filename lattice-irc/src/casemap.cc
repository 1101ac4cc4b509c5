// IRC name rules (see casemap.h).
#include "casemap.h"

#include "lattice/common/chat_channel.h"
#include "limits.h"
#include "utf8.h"

namespace lattice::irc {
namespace {

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
bool IsNickSpecial(char c) {
  switch (c) {
    case '[':
    case ']':
    case '\\':
    case '`':
    case '_':
    case '^':
    case '{':
    case '|':
    case '}':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string FoldCase(std::string_view name) { return FoldIrcCase(name); }

bool EqualsFolded(std::string_view a, std::string_view b) {
  return a.size() == b.size() && FoldIrcCase(a) == FoldIrcCase(b);
}

bool IsValidNick(std::string_view nick) {
  if (nick.empty() || nick.size() > limits::kMaxNickBytes) return false;
  if (!IsLetter(nick[0]) && !IsNickSpecial(nick[0])) return false;
  for (char c : nick) {
    if (!IsLetter(c) && !IsDigit(c) && !IsNickSpecial(c) && c != '-') return false;
  }
  return true;
}

bool IsReservedRemoteNick(std::string_view nick) {
  std::string folded = FoldCase(nick);
  size_t bar = folded.rfind('|');
  if (bar == std::string::npos) return false;
  std::string_view tail = std::string_view(folded).substr(bar + 1);
  if (tail.size() < 8) return false;
  for (size_t i = 0; i < 8; ++i) {
    if (!IsHex(tail[i])) return false;
  }
  tail.remove_prefix(8);
  if (tail.empty()) return true;
  if (tail[0] != '-' || tail.size() == 1) return false;
  for (char c : tail.substr(1)) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool IsValidChannelName(std::string_view name) {
  if (name.size() < 2 || name.size() > limits::kMaxChannelNameBytes || name[0] != '#') {
    return false;
  }
  for (char c : name) {
    if (c == '\0' || c == '\a' || c == '\r' || c == '\n' || c == ' ' || c == ',' || c == ':') {
      return false;
    }
  }
  return IsValidUtf8(name);
}

std::string StoreChannelFor(std::string_view irc_channel) {
  return CanonicalChatChannel(irc_channel);
}

std::string IrcChannelFor(std::string_view store_channel) {
  std::string name = "#" + CanonicalChatChannel(store_channel);
  if (!IsValidChannelName(name)) return {};
  return name;
}

std::vector<std::string> SplitCommaList(std::string_view list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    if (end > pos) out.emplace_back(list.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace lattice::irc
