// Start-up time and resident memory of a real lattice-kernel whose store holds N intentions
// (DESIGN §4: neither may grow with history). The store is filled in this process through
// the kernel's own Node and Store (group commit from many writer threads), then the kernel
// binary is started on that data directory several times.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "bench_options.h"
#include "results.h"

namespace lattice::bench {

// For each of options.startup_sizes, ascending, on one data directory under `dir`: fills
// the store "bench" up to that many intentions, starts the kernel once right after the fill
// (LevelDB replays its last log) and options.startup_restarts more times, and adds to
// `results` per size: the fill rate, both start times (spawn to the first Connect and
// Admin.Status that succeed), VmRSS at ready and one second later, VmHWM and the size on
// disk; then the ratios largest/smallest size with the 1.5x target. Checks that the kernel
// reports exactly the filled count.
absl::Status MeasureStartup(const BenchOptions& options, const std::string& dir,
                            Results& results);

}  // namespace lattice::bench
