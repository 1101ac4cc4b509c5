// When the sync index's table is due a compaction. Each item added rewrites a leaf record
// of the index and the buckets above it; LevelDB keeps the old versions until a compaction
// reaches them, and every scan and seek of the index steps over them (a store that took in
// a hundred thousand intentions at once read its leaves four times slower until then).
// Compacting after every `every` added items, or a quarter of the items the index holds
// when that is more, bounds what the compactions rewrite per added item.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace lattice::kernel::sync {

class IndexCompactionSchedule {
 public:
  // `every` 0: never due.
  explicit IndexCompactionSchedule(uint64_t every) : every_(every) {}

  // Counts a commit's added items into an index that now holds `items_held`; true when a
  // compaction is due. Call Started() once one is started; until then each call says so.
  bool Add(uint64_t items_added, uint64_t items_held) {
    if (every_ == 0) return false;
    since_ += items_added;
    return items_added > 0 && since_ >= std::max(every_, items_held / 4);
  }
  void Started() { since_ = 0; }

 private:
  uint64_t every_;
  uint64_t since_ = 0;
};

// The keys of the index's table under `prefix`: [prefix, the prefix's successor).
inline std::pair<std::string, std::string> IndexTableRange(const std::string& prefix) {
  std::string past = prefix;
  while (!past.empty() && static_cast<unsigned char>(past.back()) == 0xff) past.pop_back();
  if (!past.empty()) ++past.back();
  return {prefix, past};  // an empty end: no end
}

}  // namespace lattice::kernel::sync
