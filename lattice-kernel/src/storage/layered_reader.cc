#include "storage/layered_reader.h"

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

absl::Status LayeredReader::Scan(std::string_view start, std::string_view end,
                                 const Visitor& visit) const {
  if (above_ == nullptr) return below_.Scan(start, end, visit);
  return ScanMerged(*above_, below_, start, end, visit);
}

}  // namespace lattice::kernel
