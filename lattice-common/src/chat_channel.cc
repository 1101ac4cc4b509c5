// Chat channel names (see chat_channel.h).
#include "lattice/common/chat_channel.h"

namespace lattice {
namespace {

char FoldIrcChar(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  switch (c) {
    case '[':
      return '{';
    case ']':
      return '}';
    case '\\':
      return '|';
    case '~':
      return '^';
    default:
      return c;
  }
}

}  // namespace

std::string FoldIrcCase(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = FoldIrcChar(c);
  return out;
}

std::string CanonicalChatChannel(std::string_view name) {
  if (!name.empty() && name.front() == '#') name.remove_prefix(1);
  return FoldIrcCase(name);
}

std::vector<std::string> StoredChatChannelNames(std::string_view name) {
  std::string canonical = CanonicalChatChannel(name);
  std::vector<std::string> names{canonical, "#" + canonical};
  if (name != names[0] && name != names[1]) names.emplace_back(name);
  return names;
}

std::string ListedChatChannel(std::string_view stored) {
  std::string canonical = CanonicalChatChannel(stored);
  if (stored == canonical || stored == "#" + canonical) return canonical;
  return std::string(stored);
}

}  // namespace lattice
