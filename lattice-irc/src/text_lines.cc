// Cutting stored text into IRC lines, and server-time stamps (see text_lines.h).
#include "text_lines.h"

#include <fmt/format.h>

#include <ctime>

#include "utf8.h"

namespace lattice::irc {

std::vector<std::string> SplitForIrc(std::string_view text, size_t max_bytes) {
  std::vector<std::string> out;
  std::string clean = ScrubUtf8(text);
  std::string_view rest = clean;
  while (!rest.empty()) {
    size_t end = rest.find_first_of("\r\n");
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    while (!line.empty()) {
      std::string_view piece = TruncateUtf8(line, max_bytes);
      if (piece.size() < line.size()) {
        // Prefer to cut after a space in the last quarter of the piece.
        size_t space = piece.rfind(' ');
        if (space != std::string_view::npos && space + 1 > piece.size() * 3 / 4) {
          piece = piece.substr(0, space + 1);
        }
      }
      if (piece.empty()) piece = line.substr(0, 1);  // cannot happen with max_bytes >= 4
      out.emplace_back(piece);
      line.remove_prefix(piece.size());
    }
  }
  if (out.empty()) out.emplace_back();
  return out;
}

std::string FormatServerTime(uint64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     unix_ms % 1000);
}

}  // namespace lattice::irc
