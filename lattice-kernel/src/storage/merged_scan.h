// The one merge of buffered writes over a KvReader, in key order, for every reader that lays
// writes not yet committed over what lies below them: a BatchView and a LayeredReader
// (writes that may delete), and the sync index's writers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/kv_view.h"

namespace lattice::kernel {
namespace merged_scan_internal {

// A buffered write as the merge reads it: a value, or nullopt for a delete.
inline std::optional<std::string_view> Written(const std::string& value) { return value; }
inline std::optional<std::string_view> Written(const std::optional<std::string_view>& value) {
  return value;
}
inline std::optional<std::string_view> Written(const std::optional<std::string>& value) {
  return value ? std::optional<std::string_view>(*value) : std::nullopt;
}

}  // namespace merged_scan_internal

// Visits the keys in [start, end) (end empty: no bound) of `writes` over `below`, in order,
// a write shadowing the value below and a delete hiding it, until `visit` returns false.
// `Writes` is an ordered map from keys to values (std::string) or to writes that may be
// deletes (std::optional<std::string_view> or std::optional<std::string>), looked up by
// std::string_view.
template <typename Writes>
absl::Status ScanMerged(const Writes& writes, const KvReader& below, std::string_view start,
                        std::string_view end, const KvReader::Visitor& visit) {
  using merged_scan_internal::Written;
  auto in_range = [&](std::string_view key) { return end.empty() || key < end; };
  auto it = writes.lower_bound(start);
  bool stopped = false;
  // Visits the writes below `bound` (all of them when null); false once stopped.
  auto drain = [&](const std::string_view* bound) {
    for (; it != writes.end() && in_range(it->first); ++it) {
      if (bound != nullptr && std::string_view(it->first) >= *bound) break;
      std::optional<std::string_view> write = Written(it->second);
      if (write && !visit(it->first, *write)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  absl::Status s = below.Scan(start, end, [&](std::string_view k, std::string_view v) {
    if (!drain(&k)) return false;
    if (it != writes.end() && std::string_view(it->first) == k) {
      // The write shadows the value below.
      std::optional<std::string_view> write = Written(it->second);
      ++it;
      if (!write) return true;
      if (!visit(k, *write)) {
        stopped = true;
        return false;
      }
      return true;
    }
    if (!visit(k, v)) {
      stopped = true;
      return false;
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!stopped) drain(nullptr);
  return absl::OkStatus();
}

}  // namespace lattice::kernel
