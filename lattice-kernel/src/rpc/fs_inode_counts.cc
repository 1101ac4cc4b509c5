#include "rpc/fs_inode_counts.h"

namespace lattice::kernel {

absl::StatusOr<uint64_t> FsInodeCounts::Get(const std::string& store_id, uint64_t witness,
                                            const CountFn& count) {
  {
    std::lock_guard lock(mu_);
    auto it = counts_.find(store_id);
    if (it != counts_.end() && it->second.witness == witness) return it->second.files;
  }
  auto files = count();
  if (!files.ok()) return files.status();
  std::lock_guard lock(mu_);
  Counted& kept = counts_[store_id];
  // A racing call may have kept a later witness's count meanwhile.
  if (witness >= kept.witness) kept = Counted{witness, *files};
  return *files;
}

}  // namespace lattice::kernel
