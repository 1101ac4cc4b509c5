// Human durations on the command line: "90s", "15m", "12h", "30d", "2w", or plain seconds.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace lattice {

absl::StatusOr<uint64_t> ParseDurationSeconds(std::string_view text);

}  // namespace lattice
