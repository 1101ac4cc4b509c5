#include "src/kernel/event_position.h"

#include <charconv>

namespace lattice::web {
namespace {

std::optional<uint64_t> ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string EventPosition::ToId() const {
  if (partial == 0) return std::to_string(complete);
  return std::to_string(complete + 1) + "." + std::to_string(partial);
}

std::optional<EventPosition> EventPosition::Parse(std::string_view id) {
  size_t dot = id.find('.');
  auto cursor = ParseNumber(id.substr(0, dot));
  if (!cursor) return std::nullopt;
  if (dot == std::string_view::npos) return EventPosition{*cursor, 0};
  auto seen = ParseNumber(id.substr(dot + 1));
  if (!seen || *seen == 0 || *cursor == 0) return std::nullopt;
  return EventPosition{*cursor - 1, *seen};
}

}  // namespace lattice::web
