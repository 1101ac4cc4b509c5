// IRC lines in both directions: parsing what a client sends (RFC 1459 §2.3.1 with IRCv3
// message tags) and rendering what the gateway sends. The parser reads top to bottom and
// never trusts its input: every length is checked against limits.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lattice::irc {

struct Tag {
  std::string key;    // e.g. "time", "+draft/reply", "example.com/x"
  std::string value;  // unescaped; empty when the tag has no value
};

// One IRC message. `params` includes the trailing parameter as its last element.
struct Message {
  std::vector<Tag> tags;
  std::string prefix;   // without the ':'
  std::string command;  // upper case, or three digits
  std::vector<std::string> params;

  // The value of `key`, or nullptr.
  const std::string* FindTag(std::string_view key) const;
};

enum class ParseError {
  kNone,
  kEmpty,          // nothing but spaces: ignored
  kTagsTooLong,    // the tags part exceeds limits::kMaxTagsBytes
  kLineTooLong,    // the rest exceeds limits::kMaxLineBytes (with CR LF)
  kNoCommand,      // tags or prefix without a command
  kBadCommand,     // neither letters nor three digits
  kTooManyParams,  // more than limits::kMaxParams
};

// A person-readable description of `error`, for NOTICEs and logs.
const char* DescribeParseError(ParseError error);

struct ParseResult {
  ParseError error = ParseError::kNone;
  Message message;  // meaningful only when error == kNone
};

// Parses one line without its CR LF. Bytes are taken as they are; UTF-8 is the caller's
// concern (see utf8.h). Malformed tags (empty or invalid keys) are dropped, as IRCv3 allows.
ParseResult ParseLine(std::string_view line);

// Tag values travel escaped (IRCv3: "\:" for ';', "\s" for ' ', "\\", "\r", "\n").
std::string EscapeTagValue(std::string_view value);
std::string UnescapeTagValue(std::string_view value);

// Whether `key` is a well-formed tag key: an optional '+', an optional vendor part ending in
// '/', then letters, digits and '-' (dots and slashes allowed in the vendor part).
bool IsValidTagKey(std::string_view key);

// Renders `message` with CR LF. The last parameter is written as a trailing parameter
// (":...") when `trailing` is set or when it needs to be (empty, has a space, starts with
// ':'). CR, LF and NUL inside parameters become spaces so nothing can inject a line.
std::string Render(const Message& message, bool trailing = false);

}  // namespace lattice::irc
