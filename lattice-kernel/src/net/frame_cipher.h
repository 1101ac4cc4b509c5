// One direction of an encrypted link: crypto_secretstream_xchacha20poly1305 from libsodium,
// one stream message per frame. The sealer writes frames, the opener checks and decrypts them
// in the same order; any change, loss, reordering or truncation fails authentication.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lattice::kernel::net {

inline constexpr size_t kStreamKeyBytes = crypto_secretstream_xchacha20poly1305_KEYBYTES;
inline constexpr size_t kStreamHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
inline constexpr size_t kLengthPrefixBytes = 4;

// Appends `n` as 4 bytes, most significant first.
void AppendLengthPrefix(uint32_t n, std::string* out);

// The sending half. Not thread-safe: one writer seals frames in the order they go out.
class FrameSealer {
 public:
  // Starts a stream under `key` (kStreamKeyBytes); `*header` receives the kStreamHeaderBytes
  // the peer's opener needs.
  static absl::StatusOr<FrameSealer> Start(std::string_view key, std::string* header);

  FrameSealer(const FrameSealer&) = default;
  FrameSealer& operator=(const FrameSealer&) = default;
  ~FrameSealer();

  // The wire form of one frame: the ciphertext's length (4 bytes, big-endian), then the
  // ciphertext. `final` marks the last frame of the stream (a close frame).
  // REQUIRES: payload.size() fits the peer's frame limit.
  std::string Seal(std::string_view payload, bool final = false);

 private:
  FrameSealer() = default;
  crypto_secretstream_xchacha20poly1305_state state_{};
};

// The receiving half. Not thread-safe: one reader opens frames in the order they arrive.
class FrameOpener {
 public:
  static absl::StatusOr<FrameOpener> Start(std::string_view key, std::string_view header);

  FrameOpener(const FrameOpener&) = default;
  FrameOpener& operator=(const FrameOpener&) = default;
  ~FrameOpener();

  // Checks and decrypts one frame's ciphertext (without its length prefix). DATA_LOSS when
  // it fails authentication; the stream cannot continue after that.
  absl::Status Open(std::string_view ciphertext, std::string* payload, bool* final);

  uint64_t frames_opened() const { return frames_opened_; }

 private:
  FrameOpener() = default;
  crypto_secretstream_xchacha20poly1305_state state_{};
  uint64_t frames_opened_ = 0;
};

}  // namespace lattice::kernel::net
