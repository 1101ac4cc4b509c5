// The IRC line parser and renderer (see message.h).
#include "message.h"

#include "limits.h"

namespace lattice::irc {
namespace {

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Skips spaces from `pos`; returns the new position.
size_t SkipSpaces(std::string_view s, size_t pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  return pos;
}

void ParseTags(std::string_view tags, std::vector<Tag>* out) {
  size_t pos = 0;
  while (pos <= tags.size()) {
    size_t end = tags.find(';', pos);
    if (end == std::string_view::npos) end = tags.size();
    std::string_view item = tags.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    if (!IsValidTagKey(key)) continue;
    Tag tag;
    tag.key = std::string(key);
    if (eq != std::string_view::npos) tag.value = UnescapeTagValue(item.substr(eq + 1));
    // IRCv3: when a key repeats, the last value wins.
    bool replaced = false;
    for (auto& existing : *out) {
      if (existing.key == tag.key) {
        existing.value = tag.value;
        replaced = true;
      }
    }
    if (!replaced) out->push_back(std::move(tag));
  }
}

void AppendClean(std::string* out, std::string_view text) {
  for (char c : text) out->push_back((c == '\r' || c == '\n' || c == '\0') ? ' ' : c);
}

}  // namespace

const std::string* Message::FindTag(std::string_view key) const {
  for (const auto& tag : tags) {
    if (tag.key == key) return &tag.value;
  }
  return nullptr;
}

const char* DescribeParseError(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "no error";
    case ParseError::kEmpty:
      return "empty line";
    case ParseError::kTagsTooLong:
      return "the tags of the line exceed 8191 bytes";
    case ParseError::kLineTooLong:
      return "the line exceeds 512 bytes";
    case ParseError::kNoCommand:
      return "the line has no command";
    case ParseError::kBadCommand:
      return "the command is neither a word nor a numeric";
    case ParseError::kTooManyParams:
      return "the line has more than 15 parameters";
  }
  return "unknown error";
}

bool IsValidTagKey(std::string_view key) {
  if (!key.empty() && key.front() == '+') key.remove_prefix(1);
  if (key.empty()) return false;
  size_t slash = key.rfind('/');
  if (slash != std::string_view::npos) {
    std::string_view vendor = key.substr(0, slash);
    if (vendor.empty()) return false;
    for (char c : vendor) {
      if (!IsLetter(c) && !IsDigit(c) && c != '-' && c != '.' && c != '/') return false;
    }
    key.remove_prefix(slash + 1);
  }
  if (key.empty()) return false;
  for (char c : key) {
    if (!IsLetter(c) && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

std::string EscapeTagValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case ';':
        out += "\\:";
        break;
      case ' ':
        out += "\\s";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\0':
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string UnescapeTagValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == value.size()) break;  // a lone trailing backslash is dropped
    switch (value[i]) {
      case ':':
        out.push_back(';');
        break;
      case 's':
        out.push_back(' ');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'n':
        out.push_back('\n');
        break;
      default:
        out.push_back(value[i]);
    }
  }
  return out;
}

ParseResult ParseLine(std::string_view line) {
  ParseResult result;
  Message& m = result.message;
  size_t pos = SkipSpaces(line, 0);
  if (pos == line.size()) {
    result.error = ParseError::kEmpty;
    return result;
  }

  if (line[pos] == '@') {
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    // The tags part counts its '@' and its separating space.
    if (end - pos + 1 > limits::kMaxTagsBytes) {
      result.error = ParseError::kTagsTooLong;
      return result;
    }
    ParseTags(line.substr(pos + 1, end - pos - 1), &m.tags);
    pos = SkipSpaces(line, end);
  }

  std::string_view rest = line.substr(pos);
  if (rest.size() + 2 > limits::kMaxLineBytes) {
    result.error = ParseError::kLineTooLong;
    return result;
  }
  pos = 0;
  if (!rest.empty() && rest[0] == ':') {
    size_t end = rest.find(' ');
    if (end == std::string_view::npos) end = rest.size();
    m.prefix = std::string(rest.substr(1, end - 1));
    pos = SkipSpaces(rest, end);
  }
  if (pos == rest.size()) {
    result.error = ParseError::kNoCommand;
    return result;
  }

  size_t end = rest.find(' ', pos);
  if (end == std::string_view::npos) end = rest.size();
  std::string_view command = rest.substr(pos, end - pos);
  bool letters = true;
  bool digits = command.size() == 3;
  for (char c : command) {
    letters = letters && IsLetter(c);
    digits = digits && IsDigit(c);
  }
  if (!letters && !digits) {
    result.error = ParseError::kBadCommand;
    return result;
  }
  m.command.reserve(command.size());
  for (char c : command) m.command.push_back(ToUpper(c));
  pos = end;

  while (true) {
    pos = SkipSpaces(rest, pos);
    if (pos >= rest.size()) break;
    if (m.params.size() == limits::kMaxParams) {
      result.error = ParseError::kTooManyParams;
      return result;
    }
    if (rest[pos] == ':') {
      m.params.emplace_back(rest.substr(pos + 1));
      break;
    }
    end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    m.params.emplace_back(rest.substr(pos, end - pos));
    pos = end;
  }
  return result;
}

std::string Render(const Message& message, bool trailing) {
  std::string out;
  if (!message.tags.empty()) {
    out.push_back('@');
    bool first = true;
    for (const auto& tag : message.tags) {
      if (!first) out.push_back(';');
      first = false;
      out += tag.key;
      if (!tag.value.empty()) {
        out.push_back('=');
        out += EscapeTagValue(tag.value);
      }
    }
    out.push_back(' ');
  }
  if (!message.prefix.empty()) {
    out.push_back(':');
    AppendClean(&out, message.prefix);
    out.push_back(' ');
  }
  AppendClean(&out, message.command);
  for (size_t i = 0; i < message.params.size(); ++i) {
    const std::string& param = message.params[i];
    out.push_back(' ');
    bool last = i + 1 == message.params.size();
    if (last && (trailing || param.empty() || param.find(' ') != std::string::npos ||
                 param.front() == ':')) {
      out.push_back(':');
    }
    AppendClean(&out, param);
  }
  out += "\r\n";
  return out;
}

}  // namespace lattice::irc
