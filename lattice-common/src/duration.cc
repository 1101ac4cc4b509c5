#include "lattice/common/duration.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace lattice {

absl::StatusOr<uint64_t> ParseDurationSeconds(std::string_view text) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) {
    return absl::InvalidArgumentError(fmt::format("duration \"{}\" must start with a number", text));
  }
  std::string_view unit(end, text.data() + text.size() - end);
  uint64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else if (unit == "d") scale = 86400;
  else if (unit == "w") scale = 7 * 86400;
  else {
    return absl::InvalidArgumentError(
        fmt::format("duration \"{}\" has unknown unit \"{}\" (use s, m, h, d or w)", text, unit));
  }
  if (number > std::numeric_limits<uint64_t>::max() / scale) {
    return absl::InvalidArgumentError(fmt::format("duration \"{}\" is too long", text));
  }
  return number * scale;
}

}  // namespace lattice
