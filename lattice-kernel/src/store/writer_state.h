// What a store's writer keeps in memory between groups: counters and the small sets that
// make building and applying intentions cheap. All of it is derived from the database.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "dag/intention.h"
#include "storage/database.h"
#include "store/index_writer.h"

namespace lattice::kernel {

struct WriterState {
  uint64_t last_witness = 0;
  uint64_t own_seq = 0;          // this node's highest seq in the store
  std::string own_tip;           // hash of that intention
  // Applied intentions no applied intention cites yet. Kept as one record (Meta "frontier"),
  // rewritten once per group: per-hash keys would leave a tombstone per write that every
  // later seek in the store has to step over.
  std::set<std::string> frontier;
  bool frontier_dirty = false;
  // Applied intentions whose op was a recorded no-op (Meta "noops"), for status.
  uint64_t noops = 0;
  bool noops_dirty = false;
  std::unordered_map<std::string, uint64_t> floating_by_author;
  uint64_t floating_total = 0;
  // Applied since the group began; handed to listeners after the commit. Not persisted.
  std::vector<std::string> applied_in_group;
  // The same intentions themselves, kept only while someone listens, so listeners get
  // them without reading back what the group just wrote.
  bool keep_applied_intentions = false;
  std::vector<DecodedIntention> applied_intentions;
  // Sync index buckets as committed (a bounded cache; empty after Load).
  IndexBucketCache index_buckets;

  // Rebuilds everything from `db`. Cost grows with the frontier and floating sets, which
  // are bounded by limits, never with history.
  absl::Status Load(const Database& db, std::string_view self);

  // Puts the frontier record (and the no-op count) into `view` when they changed in this
  // group.
  void FlushFrontier(class BatchView& view);
};

}  // namespace lattice::kernel
