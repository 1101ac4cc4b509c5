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
#include <optional>
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

// A stretch of a file being written from its start on that a streaming round may cut into
// chunks now (Overlay::ClaimStream). `fd` is the round's own descriptor of the write buffer,
// so the round may read it without the inode's lock and outlive the overlay.
struct StreamClaim {
  uint64_t serial = 0;  // the overlay's
  uint64_t epoch = 0;   // the stream's, when claimed
  uint64_t begin = 0;
  uint64_t end = 0;
  int fd = -1;
};

// Cuts the chunks of `data` (file bytes from `begin` on) whose cuts are final: those with a
// full chunk's worth of bytes after their start, or every one when `to_end` (the file ends
// there). Returns how many bytes they cover; appends their extents (all-zero chunks as
// holes) and the chunks (offsets in the file) to `out`.
uint64_t CutFinalChunks(std::string_view data, uint64_t begin, bool to_end, BuiltContent* out);

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
  // Makes the overlay one to commit though no byte changed (attributes set on a new, empty
  // file go with its commit), its mtime `mtime`.
  void MarkDirty(timespec mtime) {
    dirty_flag_ = true;
    mtime_ = mtime;
  }

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
  // Whether every byte of the content is held here (a new file, one truncated to nothing, or
  // one whose base bytes were all fetched), so ReadLocal(0, size()) is all of it.
  bool HoldsAll() const;

  // ---- streaming -----------------------------------------------------------------------
  // A file written from its start on (new, or truncated to nothing), with no base bytes
  // kept, has its final chunks cut, hashed and uploaded by rounds while it is written, so a
  // commit only cuts the tail. A write, truncate or hole punch below what rounds claimed
  // breaks the stream (the commit then cuts everything, as without it) until a truncate to
  // zero starts it again.
  //
  // Whether at least `min_bytes` could be cut now by a round.
  bool StreamWanted(uint64_t min_bytes) const;
  // Claims the next stretch (at most `max_bytes`) for a round to cut; nullopt when there is
  // none, a round is cutting, or kMaxStreamUploads rounds are uploading. The caller closes
  // claim.fd.
  std::optional<StreamClaim> ClaimStream(uint64_t max_bytes);
  // Ends the cut of `claim`: its chunks cover `covered` bytes from claim.begin, and are being
  // uploaded (FinishUpload tells how that went). False when the claim no longer counts (then
  // nothing needs uploading).
  bool FinishCut(const StreamClaim& claim, std::vector<Extent> extents, uint64_t covered);
  // Ends the upload of a round FinishCut took. A failed upload breaks the stream.
  void FinishUpload(const StreamClaim& claim, bool uploaded);
  // Whether a round is cutting or uploading: a commit waits for it.
  bool stream_busy() const { return stream_running_ || uploads_running_ > 0; }
  static constexpr int kMaxStreamUploads = 2;
  uint64_t serial() const { return serial_; }
  uint64_t streamed() const { return stream_broken_ ? 0 : streamed_; }

 private:
  void BreakStreamBelow(uint64_t offset);
  void BreakStream();
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

  const uint64_t serial_;
  bool stream_broken_ = false;
  bool stream_running_ = false;  // a round is cutting
  int uploads_running_ = 0;
  uint64_t stream_epoch_ = 0;
  uint64_t streamed_ = 0;       // [0, streamed_) is cut into streamed_extents_, uploaded
  uint64_t claimed_end_ = 0;    // the running round's end (streamed_ when none runs)
  std::vector<Extent> streamed_extents_;
};

}  // namespace lattice::fuse
