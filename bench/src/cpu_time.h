// CPU time consumed by a process (user + system), to turn a measured window into CPU
// microseconds per operation on each side of the socket.
#pragma once

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace lattice::bench {

// utime + stime of `pid` from /proc/<pid>/stat, in seconds (clock-tick resolution).
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

// The same for this process, from getrusage (microsecond resolution).
double SelfCpuSeconds();

}  // namespace lattice::bench
