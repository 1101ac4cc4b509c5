#include "net/frame_receiver.h"

#include "lattice/common/status.h"
#include "net/link_limits.h"
#include "net/peer_text.h"

namespace lattice::kernel::net {

FrameReceiver::FrameReceiver(FrameOpener opener)
    : opener_(std::move(opener)), decoder_(kFrameOverheadBytes, kMaxFrameCiphertextBytes) {}

absl::Status FrameReceiver::Feed(std::string_view bytes,
                                 const std::function<void(std::string)>& deliver) {
  if (!failure_.ok()) return failure_;
  while (!bytes.empty()) {
    if (peer_closed_) {
      failure_ = absl::InvalidArgumentError("data after the peer's close frame");
      return failure_;
    }
    auto frame = decoder_.Next(&bytes);
    if (!frame.ok()) {
      failure_ = frame.status();
      return failure_;
    }
    if (!frame->has_value()) break;
    std::string payload;
    bool final = false;
    absl::Status opened = opener_.Open(**frame, &payload, &final);
    if (!opened.ok()) {
      failure_ = opened;
      return failure_;
    }
    if (final) {
      peer_closed_ = true;
      peer_reason_ = PeerText(payload);
      continue;
    }
    ++frames_received_;
    deliver(std::move(payload));
  }
  return absl::OkStatus();
}

}  // namespace lattice::kernel::net
