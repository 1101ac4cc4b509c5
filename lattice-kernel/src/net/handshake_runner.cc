#include "net/handshake_runner.h"

#include <algorithm>

#include "lattice/common/status.h"
#include "net/link_limits.h"

namespace lattice::kernel::net {

absl::StatusOr<EstablishedSession> RunHandshake(ByteStream& stream, Handshake& handshake,
                                                Clock::time_point deadline) {
  auto flush = [&]() -> absl::Status {
    std::string output = handshake.TakeOutput();
    if (output.empty()) return absl::OkStatus();
    auto remaining = std::max(deadline - Clock::now(), Clock::duration::zero());
    return stream.Write(output, remaining);
  };
  auto describe = [&](const absl::Status& status) {
    if (absl::IsDeadlineExceeded(status)) {
      return absl::DeadlineExceededError(fmt::format(
          "handshake with {} as {} did not finish in time", stream.remote_address(),
          RoleName(handshake.role())));
    }
    return absl::UnavailableError(fmt::format("handshake with {} as {}: {}",
                                              stream.remote_address(),
                                              RoleName(handshake.role()), status.message()));
  };
  absl::Status flushed = flush();
  if (!flushed.ok()) return describe(flushed);
  std::string buffer;
  while (!handshake.established()) {
    absl::Status read = stream.Read(kMaxHandshakeFrameBytes, deadline, &buffer);
    if (!read.ok()) return describe(read);
    absl::Status fed = handshake.Feed(buffer);
    flushed = flush();
    if (!fed.ok()) {
      stream.FinishWrites();
      return fed;
    }
    if (!flushed.ok()) return describe(flushed);
  }
  return handshake.TakeSession();
}

}  // namespace lattice::kernel::net
