#include "sync/item_source.h"

#include "lattice/common/status.h"

namespace lattice::kernel::sync {

absl::StatusOr<CutPoint> ItemSource::CutNear(uint64_t rank, uint64_t /*lowest*/,
                                             uint64_t /*highest*/) {
  LATTICE_ASSIGN_OR_RETURN(RankedItem ranked, AtRank(rank));
  Item previous;
  if (ranked.previous.has_value()) {
    previous = *ranked.previous;
  } else {
    LATTICE_ASSIGN_OR_RETURN(RankedItem before, AtRank(rank - 1));
    previous = before.item;
  }
  return CutPoint{Bound::Between(previous, ranked.item), ranked.before};
}

}  // namespace lattice::kernel::sync
