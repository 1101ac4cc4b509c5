#include "storage/layered_reader.h"

#include <vector>

#include "storage/merged_scan.h"

namespace lattice::kernel {

absl::StatusOr<std::optional<std::string>> LayeredReader::Get(std::string_view key) const {
  if (above_ != nullptr) {
    if (auto it = above_->find(key); it != above_->end()) {
      if (!it->second) return std::optional<std::string>();
      return std::optional<std::string>(std::string(*it->second));
    }
  }
  return below_.Get(key);
}

absl::Status LayeredReader::GetSorted(std::span<const std::string_view> sorted,
                                      const SortedVisitor& found) const {
  if (above_ == nullptr) return below_.GetSorted(sorted, found);
  std::vector<std::string_view> rest;
  std::vector<size_t> rest_index;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (auto it = above_->find(sorted[i]); it != above_->end()) {
      found(i, it->second);
    } else {
      rest.push_back(sorted[i]);
      rest_index.push_back(i);
    }
  }
  return below_.GetSorted(rest, [&](size_t j, std::optional<std::string_view> value) {
    found(rest_index[j], value);
  });
}

absl::Status LayeredReader::Scan(std::string_view start, std::string_view end,
                                 const Visitor& visit) const {
  if (above_ == nullptr) return below_.Scan(start, end, visit);
  return ScanMerged(*above_, below_, start, end, visit);
}

}  // namespace lattice::kernel
