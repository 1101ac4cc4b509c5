#include "net/frame_decoder.h"

#include <algorithm>
#include <cstdint>

#include "lattice/common/status.h"
#include "net/frame_cipher.h"

namespace lattice::kernel::net {

FrameDecoder::FrameDecoder(size_t min_frame_bytes, size_t max_frame_bytes)
    : min_frame_bytes_(min_frame_bytes), max_frame_bytes_(max_frame_bytes) {}

absl::StatusOr<std::optional<std::string>> FrameDecoder::Next(std::string_view* input) {
  if (failed_) return absl::FailedPreconditionError("frame stream already failed");
  if (!body_bytes_) {
    size_t take = std::min(kLengthPrefixBytes - prefix_.size(), input->size());
    prefix_.append(input->substr(0, take));
    input->remove_prefix(take);
    if (prefix_.size() < kLengthPrefixBytes) return std::nullopt;
    uint32_t n = 0;
    for (char c : prefix_) n = (n << 8) | static_cast<unsigned char>(c);
    if (n > max_frame_bytes_) {
      failed_ = true;
      return LimitExceeded("frame", n, max_frame_bytes_);
    }
    if (n < min_frame_bytes_) {
      failed_ = true;
      return absl::DataLossError(
          fmt::format("frame of {} bytes is below the {} byte minimum", n, min_frame_bytes_));
    }
    body_bytes_ = n;
  }
  size_t take = std::min(*body_bytes_ - body_.size(), input->size());
  body_.append(input->substr(0, take));
  input->remove_prefix(take);
  if (body_.size() < *body_bytes_) return std::nullopt;
  std::string frame = std::move(body_);
  body_ = std::string();
  body_bytes_.reset();
  prefix_.clear();
  return frame;
}

}  // namespace lattice::kernel::net
