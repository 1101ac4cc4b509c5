// Decoding, signing and structural validation of signed intentions (DESIGN §3).
// The hash is BLAKE2b-256 of the body bytes exactly as received; nothing is re-serialized.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "dag/hlc.h"
#include "lattice/common/crypto.h"
#include "lattice/v1/intention.pb.h"

namespace lattice::kernel {

inline constexpr std::string_view kIntentionSigningContext = "lattice/intention/v1";
inline constexpr std::string_view kOpKv = "kv.v1";
inline constexpr std::string_view kOpChat = "chat.v1";
inline constexpr std::string_view kOpFs = "fs.v1";

// A signed intention with its parsed body and hash. Immutable once built.
struct DecodedIntention {
  v1::SignedIntention signed_intention;
  v1::Intention body;
  std::string hash;  // 32 bytes

  HlcStamp hlc() const { return {body.hlc().wall_ms(), body.hlc().counter()}; }
};

// Parses `signed_intention.body`, checks every size and field shape against the limits and
// verifies the signature. Returns INVALID_ARGUMENT, RESOURCE_EXHAUSTED (a limit) or
// UNAUTHENTICATED (bad signature) with a message that names the problem.
absl::StatusOr<DecodedIntention> DecodeAndVerify(const v1::SignedIntention& signed_intention);

// The same checks without the signature, for intentions read back from the node's own
// database, whose signature was verified when they arrived.
absl::StatusOr<DecodedIntention> DecodeTrusted(const v1::SignedIntention& signed_intention);

// Serializes `body`, signs it with `key` and returns the decoded form.
DecodedIntention SignIntention(const KeyPair& key, const v1::Intention& body);

// The same in two steps, so the signatures of many intentions can be made together, on
// several threads: serializes and hashes `body` (the hash does not depend on the
// signature), leaving the signature empty...
DecodedIntention UnsignedIntention(v1::Intention body);
// ... and signs the body of `signed_intention` with `key`. Thread-safe.
void SignBody(const KeyPair& key, v1::SignedIntention* signed_intention);

}  // namespace lattice::kernel
