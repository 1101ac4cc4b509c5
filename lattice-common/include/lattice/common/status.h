// Helpers that build absl::Status values whose messages are written for people.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <fmt/format.h>

// Debian builds abseil with its own string_view; let fmt print it (status messages).
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(absl::string_view s, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

namespace lattice {

// RESOURCE_EXHAUSTED: "<what> of <actual> bytes exceeds the <limit> byte limit".
absl::Status LimitExceeded(std::string_view what, size_t actual, size_t limit,
                           std::string_view unit = "bytes");

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function when not OK.
#define LATTICE_RETURN_IF_ERROR(expr)            \
  do {                                           \
    ::absl::Status lattice_status_ = (expr);     \
    if (!lattice_status_.ok()) return lattice_status_; \
  } while (false)

#define LATTICE_CONCAT_INNER(a, b) a##b
#define LATTICE_CONCAT(a, b) LATTICE_CONCAT_INNER(a, b)

// Declares `lhs` from an absl::StatusOr expression, or returns its error.
#define LATTICE_ASSIGN_OR_RETURN(lhs, expr)                                    \
  auto LATTICE_CONCAT(lattice_or_, __LINE__) = (expr);                         \
  if (!LATTICE_CONCAT(lattice_or_, __LINE__).ok())                             \
    return LATTICE_CONCAT(lattice_or_, __LINE__).status();                     \
  lhs = std::move(*LATTICE_CONCAT(lattice_or_, __LINE__))

}  // namespace lattice
