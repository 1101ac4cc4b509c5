// A set of byte ranges [begin, end), kept merged: which bytes of a dirty file were written, or
// are held locally.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace lattice::fuse {

class IntervalSet {
 public:
  void Add(uint64_t begin, uint64_t end);
  // Drops everything at or after `end`.
  void ClipTo(uint64_t end);
  bool Intersects(uint64_t begin, uint64_t end) const;
  // The parts of [begin, end) not in the set, in order.
  std::vector<std::pair<uint64_t, uint64_t>> Gaps(uint64_t begin, uint64_t end) const;
  bool empty() const { return ranges_.empty(); }
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // begin -> end, disjoint and not touching
};

}  // namespace lattice::fuse
