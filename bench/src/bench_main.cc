#include "bench_main.h"

#include <errno.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "progress.h"

namespace lattice::bench {

void Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(),
               std::string(status.message()).c_str());
  std::exit(1);
}

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string MakeWorkDir(const std::string& parent, const std::string& name) {
  std::string pattern = parent + "/" + name + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    Fail("mkdtemp", absl::UnavailableError(pattern + ": " + std::strerror(errno)));
  }
  Progress("working in " + pattern);
  return pattern;
}

void FinishRun(const Results& results, const std::string& json_path, const std::string& work_dir,
               bool keep) {
  results.Print(stdout);
  std::fflush(stdout);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << results.ToJson().dump(2) << "\n";
    if (!out) Progress("could not write " + json_path);
  }
  if (keep) {
    Progress("kept " + work_dir);
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir, ignored);
  }
}

}  // namespace lattice::bench
