#include "storage/leveldb_logger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>

namespace lattice::kernel {
namespace {

// LevelDB's info log has no levels. What it says about lost or damaged data (a log record
// dropped at recovery, a corrupt table, an error it ignores) is a warning; routine
// compaction and file bookkeeping are debug detail.
bool IsAboutDamage(std::string_view line) {
  for (std::string_view word : {"dropping", "orrupt", "rror", "gnoring", "Repair"}) {
    if (line.find(word) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

void LevelDbLogger::Logv(const char* format, std::va_list ap) {
  char buffer[1024];
  std::va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(buffer, sizeof buffer, format, copy);
  va_end(copy);
  if (n < 0) return;
  std::string_view line(buffer, std::min(static_cast<size_t>(n), sizeof buffer - 1));
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (IsAboutDamage(line)) {
    spdlog::warn("{}: LevelDB: {}", what_, line);
  } else {
    spdlog::debug("{}: LevelDB: {}", what_, line);
  }
}

std::string DescribeDatabaseDir(const std::string& dir) {
  std::filesystem::path path(dir);
  if (path.filename().empty()) path = path.parent_path();
  if (path.parent_path().filename() == "stores") return "store " + path.filename().string();
  return "database " + dir;
}

}  // namespace lattice::kernel
