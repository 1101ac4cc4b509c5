#include "lattice/common/fs_conflict_names.h"

#include <fmt/format.h>

#include <ctime>

namespace lattice {

std::string FsConflictName(std::string_view name, uint64_t wall_ms, std::string_view who) {
  time_t secs = static_cast<time_t>(wall_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{}{}{:04}{:02}{:02}-{:02}{:02}{:02}-{}", name, kFsConflictMarker,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, who);
}

}  // namespace lattice
