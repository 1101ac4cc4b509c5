// What the benchmark programs' main files share: failing loudly with a message, comma lists
// on the command line, the run's temporary directory, and printing the figures at the end.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "results.h"

namespace lattice::bench {

// Prints "<program>: <what>: <message>" on stderr and exits with status 1.
[[noreturn]] void Fail(const std::string& what, const absl::Status& status);

template <typename T>
T OrFail(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Fail(what, value.status());
  return *std::move(value);
}

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& list);

// A fresh directory `<parent>/<name>-XXXXXX` (mkdtemp), or Fail.
std::string MakeWorkDir(const std::string& parent, const std::string& name);

// Prints the table on stdout and, when `json_path` is set, writes the JSON there; then
// removes `work_dir` unless `keep`.
void FinishRun(const Results& results, const std::string& json_path, const std::string& work_dir,
               bool keep);

}  // namespace lattice::bench
