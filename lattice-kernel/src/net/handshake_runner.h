// Drives a Handshake over a ByteStream until the link is established, refused or out of
// time. Both transports use it, on both sides.
#pragma once

#include "absl/status/statusor.h"
#include "net/byte_stream.h"
#include "net/handshake.h"

namespace lattice::kernel::net {

// Runs `handshake` over `stream`. On failure, whatever the handshake still has to say (a
// refusal for the dialer) is written before returning. DEADLINE_EXCEEDED when `deadline`
// passes first, UNAVAILABLE when the connection ends, else the handshake's own error.
absl::StatusOr<EstablishedSession> RunHandshake(ByteStream& stream, Handshake& handshake,
                                                Clock::time_point deadline);

}  // namespace lattice::kernel::net
