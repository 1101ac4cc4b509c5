// When the sync index's table is due a compaction. A batch rewrites the leaf records its
// items land in; LevelDB keeps the old versions until a compaction reaches them, and every
// scan and seek of the index steps over them (a reconciliation over a hundred thousand
// items just taken in cost about twice the CPU until then: bench/README.md). Items taken in from
// peers land all over the index, a leaf record each; a store's own writes land in its
// newest leaf, one record a batch, and leave little behind. So the schedule counts leaf
// records written: a compaction is due after `every` of them, or a quarter of the items
// the index holds when that is more, which bounds what compactions rewrite per record.
// What was written after the last one keeps its old versions until the next; a store that
// goes quiet after taking in many (DueWhenQuiet) compacts them then, when nothing waits.
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

  // Counts a commit's leaf records written into an index that now holds `items_held`;
  // true when a compaction is due. Call Started() once one is started; until then each
  // call that wrote a leaf says so.
  bool Add(uint64_t leaves_written, uint64_t items_held) {
    if (every_ == 0) return false;
    since_ += leaves_written;
    return leaves_written > 0 && since_ >= std::max(every_, items_held / 4);
  }
  // Whether the records written since the last compaction are worth one once writes have
  // stopped: a quarter of `every`, or a 64th of the index when that is more, so a quiet
  // store rewrites its index at most once per 64th of it rewritten, and a small trickle of
  // writes never starts one.
  bool DueWhenQuiet(uint64_t items_held) const {
    return every_ != 0 && since_ > 0 && since_ >= std::max(every_ / 4, items_held / 64);
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
