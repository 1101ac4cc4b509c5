// Progress notes of a benchmark run, one line each on stderr (the figures go to stdout).
#pragma once

#include <string>

namespace lattice::bench {

void Progress(const std::string& line);

}  // namespace lattice::bench
