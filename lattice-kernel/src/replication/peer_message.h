// Parsing and checking of what a peer sends: every PeerMessage is parsed, then every field
// is checked against replication_limits.h before any of it is used, so the handlers below
// see only well-formed messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/replication.pb.h"

namespace lattice::kernel::replication {

// Parses and checks one received payload. INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the
// fault (the caller reports it to the link, which disconnects a peer that keeps doing it).
absl::StatusOr<v1::PeerMessage> ParsePeerMessage(std::string_view payload);

// Serialized size of a SignedIntention inside a repeated field (what packing counts).
size_t PackedSize(const v1::SignedIntention& intention);

// Copies intentions[from..] into `out` while they fit one message: at most
// limits::kMaxIntentionsPerMessage and about limits::kTargetMessageBytes, but at least one.
// Returns the index of the first intention left for the next message.
size_t PackIntentions(const std::vector<v1::SignedIntention>& intentions, size_t from,
                      google::protobuf::RepeatedPtrField<v1::SignedIntention>* out);

}  // namespace lattice::kernel::replication
