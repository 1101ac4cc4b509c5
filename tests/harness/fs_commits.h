// Commits for tests of the Fs service: a new content version of an inode made of `extents`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lattice/v1/fs_service.pb.h"

namespace lattice::testing {

// The commit of `extents` (their lengths summed as the size) as the content of `ino`.
inline v1::FsCommitRequest FsCommitOf(uint64_t ino, const std::vector<v1::FsExtent>& extents,
                                      const std::string& based_on = "") {
  v1::FsCommitRequest commit;
  commit.set_ino(ino);
  uint64_t size = 0;
  for (const auto& e : extents) {
    *commit.add_extents() = e;
    size += e.length();
  }
  commit.set_size(size);
  commit.set_based_on(based_on);
  return commit;
}

}  // namespace lattice::testing
