// Limits of a peer link: every size, count and time a peer could otherwise make unbounded,
// named in one place. Errors that enforce them name the limit (LimitExceeded in status.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace lattice::kernel::net {

// The TCP port a node listens on when `--listen` names none.
inline constexpr uint16_t kDefaultPort = 7470;

// Largest payload one frame carries (one serialized replication message). The length prefix
// is checked against it before any buffer is allocated for the frame.
inline constexpr size_t kMaxFramePayloadBytes = 8 * 1024 * 1024;
// What crypto_secretstream_xchacha20poly1305 adds to each message (tag byte and MAC).
inline constexpr size_t kFrameOverheadBytes = 17;
inline constexpr size_t kMaxFrameCiphertextBytes = kMaxFramePayloadBytes + kFrameOverheadBytes;
// Largest handshake message: the peer is not authenticated yet, so its own small limit.
inline constexpr size_t kMaxHandshakeFrameBytes = 1024;
inline constexpr size_t kMaxInviteIdBytes = 64;
// Longest reason carried in a close frame or a refusal (longer ones are cut).
inline constexpr size_t kMaxCloseReasonBytes = 256;

// Per-link and per-listener limits, with the defaults a kernel runs with. Tests shorten them.
struct LinkLimits {
  // The whole handshake, from connect or accept to an established link: a half-open or
  // silent peer loses its listener slot after this.
  std::chrono::milliseconds handshake_timeout{10'000};
  // Connections of one listener still in their handshake (not yet authenticated); more are
  // closed at once.
  size_t max_pending_handshakes = 64;
  // Bytes per second a peer may send us (token bucket refill rate; 0: unlimited) and the
  // burst it may send above that. A peer over its budget is read more slowly.
  uint64_t receive_bytes_per_second = 32 * 1024 * 1024;
  uint64_t receive_burst_bytes = 16 * 1024 * 1024;
  // Payload bytes queued by Send and not yet written. One payload is accepted into an empty
  // queue whatever its size (up to kMaxFramePayloadBytes).
  size_t max_send_queue_bytes = 32 * 1024 * 1024;
  // A peer that accepts none of our bytes for this long is disconnected.
  std::chrono::milliseconds write_stall_timeout{30'000};
  // How long a closing link waits to write its close frame and to see the peer's end.
  std::chrono::milliseconds close_flush_timeout{1'000};
  // Invalid messages (ReportInvalid) a peer may send before it is disconnected.
  uint32_t max_invalid_reports = 16;
};

}  // namespace lattice::kernel::net
