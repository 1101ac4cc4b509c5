// Splits a byte stream into frames: a 4-byte big-endian length, then that many bytes. The
// length is checked against the limit before any byte of the frame is buffered, and the
// buffer grows only with bytes actually received, so a peer cannot make us allocate by
// announcing a large frame.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lattice::kernel::net {

// Not thread-safe: owned by the one reader of a stream.
class FrameDecoder {
 public:
  // Frames of fewer than `min_frame_bytes` or more than `max_frame_bytes` are refused.
  FrameDecoder(size_t min_frame_bytes, size_t max_frame_bytes);

  // Consumes bytes from the front of `*input` up to the end of the next complete frame and
  // returns that frame's body, or nullopt when `*input` ran out first (the bytes so far are
  // kept). RESOURCE_EXHAUSTED for a length over the limit, DATA_LOSS for one under it; the
  // stream cannot be resynchronised after an error.
  absl::StatusOr<std::optional<std::string>> Next(std::string_view* input);

  // Bytes held for the frame in progress (its length prefix included).
  size_t buffered_bytes() const { return prefix_.size() + body_.size(); }
  size_t body_capacity() const { return body_.capacity(); }

 private:
  size_t min_frame_bytes_;
  size_t max_frame_bytes_;
  std::string prefix_;
  std::optional<size_t> body_bytes_;
  std::string body_;
  bool failed_ = false;
};

}  // namespace lattice::kernel::net
