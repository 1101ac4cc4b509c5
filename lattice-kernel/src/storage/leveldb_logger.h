// LevelDB's info log routed into the kernel's own log (spdlog), each line naming the database
// it concerns, so a repair made at open (a torn log tail dropped after a power cut) is seen
// where operators look instead of in a LOG file inside the store's directory.
#pragma once

#include <leveldb/env.h>

#include <cstdarg>
#include <string>

namespace lattice::kernel {

// Thread-safe: LevelDB calls it from its own background thread too.
class LevelDbLogger final : public leveldb::Logger {
 public:
  // `what` names the database in every line: "store <uuid>" or "database <dir>".
  explicit LevelDbLogger(std::string what) : what_(std::move(what)) {}
  void Logv(const char* format, std::va_list ap) override;

 private:
  std::string what_;
};

// What a LevelDB directory holds, for people: "store <uuid>" for <data>/stores/<uuid>, else
// "database <dir>".
std::string DescribeDatabaseDir(const std::string& dir);

}  // namespace lattice::kernel
