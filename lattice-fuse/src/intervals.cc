#include "src/intervals.h"

#include <algorithm>
#include <iterator>

namespace lattice::fuse {

void IntervalSet::Add(uint64_t begin, uint64_t end) {
  if (begin >= end) return;
  auto it = ranges_.upper_bound(begin);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) {
      begin = prev->first;
      end = std::max(end, prev->second);
      it = ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace(begin, end);
}

void IntervalSet::ClipTo(uint64_t end) {
  auto it = ranges_.lower_bound(end);
  ranges_.erase(it, ranges_.end());
  if (!ranges_.empty()) {
    auto last = std::prev(ranges_.end());
    if (last->second > end) last->second = end;
  }
}

bool IntervalSet::Intersects(uint64_t begin, uint64_t end) const {
  if (begin >= end) return false;
  auto it = ranges_.lower_bound(end);
  if (it == ranges_.begin()) return false;
  --it;
  return it->second > begin;
}

std::vector<std::pair<uint64_t, uint64_t>> IntervalSet::Gaps(uint64_t begin,
                                                             uint64_t end) const {
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  uint64_t pos = begin;
  auto it = ranges_.upper_bound(begin);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second > pos) pos = prev->second;
  }
  for (; it != ranges_.end() && pos < end; ++it) {
    if (it->first > pos) gaps.emplace_back(pos, std::min(it->first, end));
    pos = std::max(pos, it->second);
  }
  if (pos < end) gaps.emplace_back(pos, end);
  return gaps;
}

}  // namespace lattice::fuse
