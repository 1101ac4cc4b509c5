#include "progress.h"

#include <cstdio>

namespace lattice::bench {

void Progress(const std::string& line) {
  std::fprintf(stderr, "[bench] %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace lattice::bench
