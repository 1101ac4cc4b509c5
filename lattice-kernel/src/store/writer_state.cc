#include "store/writer_state.h"

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "storage/batch_view.h"
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
  LATTICE_ASSIGN_OR_RETURN(auto frontier_record, db.Get(keys::Meta("frontier")));
  if (frontier_record) {
    for (size_t at = 0; at + kHashBytes <= frontier_record->size(); at += kHashBytes) {
      frontier.insert(frontier_record->substr(at, kHashBytes));
    }
  }
  LATTICE_ASSIGN_OR_RETURN(auto noops_record, db.Get(keys::Meta("noops")));
  if (noops_record && noops_record->size() == 8) noops = keys::ReadBigEndian64(*noops_record);
  std::string pending_prefix = keys::Table(keys::kPendingByAuthor);
  LATTICE_RETURN_IF_ERROR(db.Scan(pending_prefix, keys::PrefixEnd(pending_prefix),
                                  [&](std::string_view k, std::string_view) {
                                    ++floating_by_author[std::string(k.substr(1, kNodeIdBytes))];
                                    ++floating_total;
                                    return true;
                                  }));
  return absl::OkStatus();
}

void WriterState::FlushFrontier(BatchView& view) {
  if (noops_dirty) {
    std::string record;
    keys::AppendBigEndian64(&record, noops);
    view.Put(keys::Meta("noops"), record);
    noops_dirty = false;
  }
  if (!frontier_dirty) return;
  std::string record;
  record.reserve(frontier.size() * kHashBytes);
  for (const auto& hash : frontier) record.append(hash);
  view.Put(keys::Meta("frontier"), record);
  frontier_dirty = false;
}

}  // namespace lattice::kernel
