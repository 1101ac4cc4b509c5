// spdlog set up the same way in every Lattice process: stderr, which journald collects.
#pragma once

#include <string>

namespace lattice {

// `level` is one of trace, debug, info, warn, error, off. Unknown values mean info.
void SetupLogging(const std::string& process_name, const std::string& level);

}  // namespace lattice
