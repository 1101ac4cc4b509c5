// The layouts of content versions Fs.Read has served, parsed once and kept in memory, so a
// large file read in many small pieces costs a binary search per read instead of loading and
// parsing its whole version record (about 44 bytes per extent) every time.
//
// A version is immutable and named by the intention that wrote it, and neither inode records
// nor version records are ever deleted, so an entry never goes stale: what it says is what the
// database would say. Entries are kept per chunk store (one per fs store), so a caller only
// finds what a read of that store found before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lattice/common/lru_cache.h"
#include "lattice/v1/fs.pb.h"

namespace lattice::kernel {

// One version's extents, with where each ends, for finding the extents of a byte range.
class FsVersionLayout {
 public:
  explicit FsVersionLayout(const v1::FsVersion& version);

  const std::string& id() const { return id_; }
  uint64_t size() const { return size_; }
  size_t extent_count() const { return ends_.size(); }
  // The extent holding byte `offset` (extent_count() when none does).
  size_t ExtentAt(uint64_t offset) const;
  uint64_t Begin(size_t i) const { return i == 0 ? 0 : ends_[i - 1]; }
  uint64_t End(size_t i) const { return ends_[i]; }
  // The extent's chunk hash; empty for a hole.
  std::string_view Hash(size_t i) const;
  // Roughly what the layout takes in memory.
  size_t bytes() const;

 private:
  std::string id_;
  uint64_t size_ = 0;
  std::vector<uint64_t> ends_;   // cumulative: extent i covers [ends_[i-1], ends_[i])
  std::vector<uint32_t> slots_;  // extent i's hash at hashes_[32 * slots_[i]], or kHole
  std::string hashes_;
};

// Thread-safe; least recently used layouts are dropped once the total passes `max_bytes`.
class FsLayoutCache {
 public:
  explicit FsLayoutCache(size_t max_bytes) : layouts_(max_bytes) {}

  // The process-wide cache Fs.Read uses (64 MiB).
  static FsLayoutCache& Shared();

  // `owner` names the store (its chunk store's address).
  std::shared_ptr<const FsVersionLayout> Find(const void* owner, uint64_t ino,
                                              std::string_view version_id);
  // Parses and keeps `version` of `ino` (REQUIRES: a read of that store just found it there).
  std::shared_ptr<const FsVersionLayout> Add(const void* owner, uint64_t ino,
                                             const v1::FsVersion& version);
  size_t bytes() const { return layouts_.weight(); }

 private:
  using Key = std::string;  // owner || ino || version id
  static Key KeyOf(const void* owner, uint64_t ino, std::string_view version_id);

  LruCache<Key, FsVersionLayout> layouts_;  // weighed in bytes of memory
};

}  // namespace lattice::kernel
