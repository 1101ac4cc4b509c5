// The number of files Fs.StatFs reports (f_files), kept per store with the witness number it
// was counted at. Counting reads every inode record and the entries of each (inode records
// are never deleted, so their number would overcount): about 7.5 us an inode, which `df` and
// file managers would pay on every statvfs(2). A store that witnessed no intention since the
// count answers the count kept; any new intention, local or a peer's, counts again.
//
// Thread-safe. Two calls racing past a stale count both count; neither answer is older than
// the witness its caller read.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"

namespace lattice::kernel {

class FsInodeCounts {
 public:
  using CountFn = std::function<absl::StatusOr<uint64_t>()>;

  // The count of store `store_id`, whose last witness was read as `witness` before this call:
  // the one kept for that witness, else what `count` finds (which reads a state at least as
  // new), kept for it.
  absl::StatusOr<uint64_t> Get(const std::string& store_id, uint64_t witness, const CountFn& count);

 private:
  struct Counted {
    uint64_t witness = 0;
    uint64_t files = 0;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Counted> counts_;  // one per store asked about
};

}  // namespace lattice::kernel
