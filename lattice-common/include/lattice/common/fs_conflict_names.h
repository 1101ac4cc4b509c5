// The names conflict copies of an fs store are shown under, in Syncthing's form
// (NAME.sync-conflict-YYYYMMDD-HHMMSS-WHO): the kernel's for concurrent versions and names
// from different nodes, and lattice-fuse's for a file whose name another client took before
// the mount's create arrived. One form, so a person and a tool recognise them all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lattice {

inline constexpr std::string_view kFsConflictMarker = ".sync-conflict-";

// NAME.sync-conflict-YYYYMMDD-HHMMSS-WHO for a change made at `wall_ms` (milliseconds since
// the epoch, shown in UTC) by `who`.
std::string FsConflictName(std::string_view name, uint64_t wall_ms, std::string_view who);

}  // namespace lattice
