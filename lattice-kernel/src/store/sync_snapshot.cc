#include "store/sync_snapshot.h"

#include <thread>

#include "lattice/common/status.h"
#include "store/store.h"

namespace lattice::kernel {
namespace {

// Pins taken again when a commit lands between reading the resident levels and pinning
// the snapshot (the writer publishes the levels right after its write).
constexpr int kRepins = 3;

}  // namespace

absl::StatusOr<std::unique_ptr<SyncSnapshot>> SyncSnapshot::Open(const Store& store) {
  for (int attempt = 0;; ++attempt) {
    // The levels first: the snapshot pinned after them shows their state or a later one.
    std::shared_ptr<const sync::ResidentLevels> levels = store.sync_levels().Current();
    bool resident = levels != nullptr;
    LATTICE_ASSIGN_OR_RETURN(auto pinned, store.db().Pin());
    std::unique_ptr<SyncSnapshot> snapshot(new SyncSnapshot(std::move(pinned), std::move(levels)));
    if (!resident || attempt == kRepins) return snapshot;
    // Without them the reader is still exact, only slower: errors surface at the first use.
    auto uses = snapshot->reader_.UsesResidentLevels();
    if (!uses.ok() || *uses) return snapshot;
    snapshot.reset();
    std::this_thread::yield();
  }
}

absl::StatusOr<std::unique_ptr<SyncSnapshot>> SyncSnapshot::Open(const Database& db) {
  LATTICE_ASSIGN_OR_RETURN(auto pinned, db.Pin());
  return std::unique_ptr<SyncSnapshot>(new SyncSnapshot(std::move(pinned), nullptr));
}

}  // namespace lattice::kernel
