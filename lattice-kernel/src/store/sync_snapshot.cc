#include "store/sync_snapshot.h"

#include "lattice/common/status.h"

namespace lattice::kernel {

absl::StatusOr<std::unique_ptr<SyncSnapshot>> SyncSnapshot::Open(const Database& db) {
  LATTICE_ASSIGN_OR_RETURN(auto pinned, db.Pin());
  return std::unique_ptr<SyncSnapshot>(new SyncSnapshot(std::move(pinned)));
}

}  // namespace lattice::kernel
