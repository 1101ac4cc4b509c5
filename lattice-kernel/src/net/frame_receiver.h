// The receiving half of an established link, without IO: splits bytes into frames, checks
// and decrypts each, and hands out the payloads in order. The link's reader and the frame
// fuzz target drive it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "net/frame_cipher.h"
#include "net/frame_decoder.h"

namespace lattice::kernel::net {

// Not thread-safe: owned by the one reader of a link.
class FrameReceiver {
 public:
  explicit FrameReceiver(FrameOpener opener);

  // Consumes `bytes`, calling `deliver` with each payload in order. Errors are final:
  // RESOURCE_EXHAUSTED for a length over kMaxFrameCiphertextBytes (refused before anything is
  // buffered for it), DATA_LOSS for a frame that fails authentication, INVALID_ARGUMENT for
  // bytes after the peer's close frame. After the close frame peer_closed() is true.
  absl::Status Feed(std::string_view bytes, const std::function<void(std::string)>& deliver);

  bool peer_closed() const { return peer_closed_; }
  // The reason the peer gave in its close frame (made safe to log).
  const std::string& peer_reason() const { return peer_reason_; }
  // Payload frames delivered (the close frame and handshake frames not counted).
  uint64_t frames_received() const { return frames_received_; }
  size_t buffered_bytes() const { return decoder_.buffered_bytes(); }

 private:
  FrameOpener opener_;
  FrameDecoder decoder_;
  uint64_t frames_received_ = 0;
  bool peer_closed_ = false;
  std::string peer_reason_;
  absl::Status failure_;
};

}  // namespace lattice::kernel::net
