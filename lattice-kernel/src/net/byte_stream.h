// A reliable, ordered, two-way byte stream under a link: a TCP connection or an in-memory
// pipe. Links and handshakes are written against this, so both transports run the same code.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace lattice::kernel::net {

using Clock = std::chrono::steady_clock;

// Thread-safe for one reader and one writer at a time; Shutdown from any thread.
class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Replaces `*out` with at least one and at most `max_bytes` bytes, waiting until
  // `deadline` at most (Clock::time_point::max(): no limit). UNAVAILABLE once the peer ended
  // its side or after Shutdown, DEADLINE_EXCEEDED when nothing came in time.
  virtual absl::Status Read(size_t max_bytes, Clock::time_point deadline, std::string* out) = 0;

  // Writes all of `bytes`. DEADLINE_EXCEEDED when the peer accepted no byte for
  // `stall_timeout`; UNAVAILABLE when the stream is closed or broken.
  virtual absl::Status Write(std::string_view bytes, Clock::duration stall_timeout) = 0;

  // Ends our sending side after the bytes already written; the peer reads them, then the end.
  virtual void FinishWrites() = 0;

  // Ends both directions now and wakes every blocked Read and Write. Idempotent.
  virtual void Shutdown() = 0;

  // Where the peer is, for messages and logs ("127.0.0.1:51234", an in-memory name).
  virtual const std::string& remote_address() const = 0;
};

}  // namespace lattice::kernel::net
