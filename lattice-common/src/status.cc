#include "lattice/common/status.h"

#include <fmt/format.h>

namespace lattice {

absl::Status LimitExceeded(std::string_view what, size_t actual, size_t limit,
                           std::string_view unit) {
  return absl::ResourceExhaustedError(
      fmt::format("{} of {} {} exceeds the {} {} limit", what, actual, unit, limit, unit));
}

}  // namespace lattice
