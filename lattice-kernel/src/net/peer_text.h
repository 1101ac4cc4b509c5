// Text a peer sends us (refusal and close reasons) made safe to log and to show: at most
// kMaxCloseReasonBytes, cut on a UTF-8 boundary, control characters replaced by '?'.
#pragma once

#include <string>
#include <string_view>

namespace lattice::kernel::net {

std::string PeerText(std::string_view text);

}  // namespace lattice::kernel::net
