// The ordered key-value reads and buffered writes that storage offers its users: Database
// and LayeredReader are KvReaders, and the sync index (sync/range_index.h) reads and writes
// only through these two interfaces, so it knows nothing of Database or BatchView.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::kernel {

// Reads of an ordered key-value store. For one reconciliation message the reads should
// see one state (a snapshot, or a store no one writes meanwhile); see RangeIndexReader.
class KvReader {
 public:
  virtual ~KvReader() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const = 0;
  // Calls `visit(key, value)` for the keys in [start, end) in order until it returns false.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  virtual absl::Status Scan(std::string_view start, std::string_view end,
                            const Visitor& visit) const = 0;
  // Reads every key of `sorted` (ascending, no repeats), calling `found(i, value)` once for
  // each index i with sorted[i]'s value, or nullopt where it is absent; the value is valid
  // during the call only. A reader over an ordered store overrides it to walk the store once
  // for many nearby keys; this one gets each key in turn.
  using SortedVisitor = std::function<void(size_t index, std::optional<std::string_view> value)>;
  virtual absl::Status GetSorted(std::span<const std::string_view> sorted,
                                 const SortedVisitor& found) const {
    for (size_t i = 0; i < sorted.size(); ++i) {
      absl::StatusOr<std::optional<std::string>> value = Get(sorted[i]);
      if (!value.ok()) return value.status();
      found(i, *value ? std::optional<std::string_view>(**value) : std::nullopt);
    }
    return absl::OkStatus();
  }
};

// A write batch being built: Put and Delete are buffered into it, and Get and Scan through
// the same writer see them over the committed state.
class KvWriter : public KvReader {
 public:
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

}  // namespace lattice::kernel
