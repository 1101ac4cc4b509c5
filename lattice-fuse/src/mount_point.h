// The folder lattice-fuse mounts on: a mount left behind by a lattice-fuse that died (stat
// fails with ENOTCONN, "Transport endpoint is not connected") is detached so a new daemon can
// take the place over.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace lattice::fuse {

// OK when `path` is a directory ready to be mounted on, after detaching a stale FUSE mount
// there if need be.
absl::Status PrepareMountPoint(const std::string& path);

}  // namespace lattice::fuse
