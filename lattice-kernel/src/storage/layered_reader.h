// The database as it will be once a batch still being committed is in it: that batch's
// writes over the database. The store's writer builds the next group through it while the
// previous group's commit, fsync included, is in flight.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/batch_view.h"
#include "storage/kv_view.h"

namespace lattice::kernel {

// Safe to read from several threads while no one writes `above`. Whether the batch is in
// the database yet or not, reads give the same answers: it holds every write of `above`.
class LayeredReader final : public KvReader {
 public:
  // `below` outlives the reader; `above` may be null (reads go straight below).
  LayeredReader(const KvReader& below, std::shared_ptr<const BatchView::Writes> above)
      : below_(below), above_(std::move(above)) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;
  // The keys `above` holds are answered from it; the others are read below in one call.
  absl::Status GetSorted(std::span<const std::string_view> sorted,
                         const SortedVisitor& found) const override;

 private:
  const KvReader& below_;
  std::shared_ptr<const BatchView::Writes> above_;
};

}  // namespace lattice::kernel
