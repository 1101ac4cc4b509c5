#include "store/writer_state.h"

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "storage/keys.h"

namespace lattice::kernel {

absl::Status WriterState::Load(const Database& db, std::string_view self) {
  *this = WriterState();
  std::string witness_prefix = keys::Table(keys::kWitness);
  LATTICE_RETURN_IF_ERROR(db.ScanReverse(witness_prefix, keys::PrefixEnd(witness_prefix),
                                         [&](std::string_view k, std::string_view) {
                                           last_witness = keys::ReadBigEndian64(k.substr(1));
                                           return false;
                                         }));
  LATTICE_ASSIGN_OR_RETURN(auto tip, db.Get(keys::AuthorTip(self)));
  if (tip && tip->size() == 8 + kHashBytes) {
    own_seq = keys::ReadBigEndian64(*tip);
    own_tip = tip->substr(8);
  }
  std::string frontier_prefix = keys::Table(keys::kFrontier);
  LATTICE_RETURN_IF_ERROR(db.Scan(frontier_prefix, keys::PrefixEnd(frontier_prefix),
                                  [&](std::string_view k, std::string_view) {
                                    frontier.emplace(k.substr(1));
                                    return true;
                                  }));
  std::string pending_prefix = keys::Table(keys::kPendingByAuthor);
  LATTICE_RETURN_IF_ERROR(db.Scan(pending_prefix, keys::PrefixEnd(pending_prefix),
                                  [&](std::string_view k, std::string_view) {
                                    ++floating_by_author[std::string(k.substr(1, kNodeIdBytes))];
                                    ++floating_total;
                                    return true;
                                  }));
  return absl::OkStatus();
}

}  // namespace lattice::kernel
