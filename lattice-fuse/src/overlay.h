// The unsaved content of one file: the bytes written since its last commit, held in a memfd
// shared by every open handle of the inode (so a read of a dirty file sees the dirty bytes),
// over the content version the writes started from. Bytes of the base version that are
// needed (a read of a dirty file, a chunk around a change) are fetched into the memfd once.
//
// At commit the file's new extents are planned from the base version's layout: an extent no
// write, truncate or extension touched is kept as it is (same chunk, nothing to upload); each
// run of touched extents is cut again with the chunker, all-zero chunks becoming holes.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/intervals.h"

namespace lattice::fuse {

struct Extent {
  std::string hash;  // empty: a hole
  uint64_t length = 0;
  bool operator==(const Extent&) const = default;
};

// What to do with one stretch of the new content: keep a base extent, or cut [begin, end)
// afresh.
struct PlanItem {
  bool keep = false;
  Extent extent;       // keep
  uint64_t begin = 0;  // cut
  uint64_t end = 0;
};

// Plans the new extents of a file of `size` bytes whose first `base_valid` bytes are still
// the base content (`base`, whose lengths sum to at least base_valid) except where `dirty`
// says; bytes from base_valid on are zeros unless dirty.
std::vector<PlanItem> PlanCommit(const std::vector<Extent>& base, uint64_t base_valid,
                                 uint64_t size, const IntervalSet& dirty);

// A chunk of the new content that lives in the overlay at `offset`.
struct NewChunk {
  std::string hash;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct BuiltContent {
  std::vector<Extent> extents;
  std::vector<NewChunk> chunks;  // distinct hashes, not holes
};

// Reads `length` bytes at `offset` of the base version (shorter only at its end).
using FetchBase = std::function<absl::StatusOr<std::string>(uint64_t offset, uint32_t length)>;

class Overlay {
 public:
  static absl::StatusOr<std::unique_ptr<Overlay>> Create(std::string base_version,
                                                         uint64_t base_size);
  ~Overlay();
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  const std::string& base_version() const { return base_version_; }
  uint64_t size() const { return size_; }
  bool dirty() const { return dirty_flag_; }
  // The mtime to commit: the last write's, or what utimens set after it.
  const timespec& mtime() const { return mtime_; }
  void set_mtime(timespec mtime) { mtime_ = mtime; }

  absl::Status Write(uint64_t offset, std::string_view data);
  absl::StatusOr<std::string> Read(uint64_t offset, uint64_t length, const FetchBase& fetch);
  absl::Status Truncate(uint64_t size);
  // Writes zeros over [offset, offset + length) without changing the size (PUNCH_HOLE).
  absl::Status Zero(uint64_t offset, uint64_t length);
  // Makes the bytes [offset, offset + length) local (fetched from the base when needed).
  absl::Status EnsureLocal(uint64_t offset, uint64_t length, const FetchBase& fetch);

  // The new content as extents over `base` (the base version's layout), and the chunks that
  // are new.
  absl::StatusOr<BuiltContent> Build(const std::vector<Extent>& base, const FetchBase& fetch);
  absl::StatusOr<std::string> ReadLocal(uint64_t offset, uint64_t length) const;

 private:
  Overlay(int fd, std::string base_version, uint64_t base_size);
  void Touch();

  int fd_;
  std::string base_version_;
  uint64_t base_valid_;  // bytes of the base still meaningful (lowered by truncates)
  uint64_t size_;
  bool dirty_flag_ = false;
  timespec mtime_{};
  IntervalSet dirty_;  // written since the base
  IntervalSet local_;  // below base_valid_: held in the memfd (written or fetched)
};

}  // namespace lattice::fuse
