// One state of the range index's upper levels held in memory: the count, id sum and split
// flag of every bucket down to a depth, as an immutable tree that any number of readers
// share without locks (and beside it the index's cache of leaves read lately). ResidentTrie
// (resident_trie.h) builds one per committed state of the index, sharing every bucket that
// state did not change with the one before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sync/leaf_cache.h"
#include "sync/negentropy_codec.h"

namespace lattice::kernel::sync {

struct ResidentBucket;
// The children of a split bucket, by ascending child index.
using ResidentChildren = std::vector<ResidentBucket>;

// A bucket as its parent holds it.
struct ResidentBucket {
  Aggregate aggregate;
  // A split bucket's children when they are resident (the bucket lies above the deepest
  // resident level); null for a leaf, and for a split bucket at the deepest level, whose
  // children are read from LevelDB.
  std::shared_ptr<const ResidentChildren> children;
  uint8_t index = 0;  // among its parent's children
  bool split = false;
};

// Immutable once published.
struct ResidentLevels {
  // The whole index: a count of 0 and no split when it is empty.
  ResidentBucket root;
  // Buckets of levels 0 to `depth` are held; those of deeper levels are not.
  int depth = 0;
  size_t buckets = 0;  // held, the root included
  std::vector<size_t> level_buckets;  // held at each level
  // Leaves read lately, shared by all the states of one index (not part of any).
  std::shared_ptr<LeafCache> leaves;
};

}  // namespace lattice::kernel::sync
