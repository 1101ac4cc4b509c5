#include "dag/intention.h"

#include <fmt/format.h>

#include <set>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"

namespace lattice::kernel {
namespace {

absl::Status CheckShape(const v1::Intention& body) {
  if (body.store_id().size() != kStoreIdBytes) {
    return absl::InvalidArgumentError(
        fmt::format("intention store_id has {} bytes, expected {}", body.store_id().size(),
                    kStoreIdBytes));
  }
  if (body.author().size() != kNodeIdBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "intention author has {} bytes, expected {}", body.author().size(), kNodeIdBytes));
  }
  if (body.seq() == 0) return absl::InvalidArgumentError("intention seq must start at 1");
  if (body.seq() == 1 && !body.prev().empty()) {
    return absl::InvalidArgumentError("intention with seq 1 must not name a prev");
  }
  if (body.seq() > 1 && body.prev().size() != kHashBytes) {
    return absl::InvalidArgumentError(
        fmt::format("intention with seq {} must name a 32-byte prev", body.seq()));
  }
  if (static_cast<size_t>(body.deps_size()) > limits::kMaxDeps) {
    return LimitExceeded("intention deps", body.deps_size(), limits::kMaxDeps, "entries");
  }
  std::set<std::string> seen;
  for (const auto& dep : body.deps()) {
    if (dep.size() != kHashBytes) {
      return absl::InvalidArgumentError(
          fmt::format("intention dep has {} bytes, expected {}", dep.size(), kHashBytes));
    }
    if (!seen.insert(dep).second) return absl::InvalidArgumentError("intention repeats a dep");
  }
  if (body.op_type().empty() || body.op_type().size() > limits::kMaxOpTypeBytes) {
    return absl::InvalidArgumentError("intention op_type is empty or too long");
  }
  if (body.payload().size() > limits::kMaxPayloadBytes) {
    return LimitExceeded("intention payload", body.payload().size(), limits::kMaxPayloadBytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<DecodedIntention> Decode(const v1::SignedIntention& signed_intention) {
  if (signed_intention.body().size() > limits::kMaxIntentionBytes) {
    return LimitExceeded("intention body", signed_intention.body().size(),
                         limits::kMaxIntentionBytes);
  }
  DecodedIntention out;
  if (!out.body.ParseFromString(signed_intention.body())) {
    return absl::InvalidArgumentError("intention body is not a valid Intention message");
  }
  LATTICE_RETURN_IF_ERROR(CheckShape(out.body));
  out.signed_intention = signed_intention;
  out.hash = Blake2b256(signed_intention.body());
  return out;
}

}  // namespace

absl::StatusOr<DecodedIntention> DecodeAndVerify(const v1::SignedIntention& signed_intention) {
  LATTICE_ASSIGN_OR_RETURN(DecodedIntention decoded, Decode(signed_intention));
  if (!Verify(decoded.body.author(), kIntentionSigningContext, signed_intention.body(),
              signed_intention.signature())) {
    return absl::UnauthenticatedError(
        fmt::format("intention {} has a signature that does not verify for author {}",
                    ShortHex(decoded.hash), ShortHex(decoded.body.author())));
  }
  return decoded;
}

absl::StatusOr<DecodedIntention> DecodeTrusted(const v1::SignedIntention& signed_intention) {
  return Decode(signed_intention);
}

DecodedIntention SignIntention(const KeyPair& key, const v1::Intention& body) {
  DecodedIntention out = UnsignedIntention(body);
  SignBody(key, &out.signed_intention);
  return out;
}

DecodedIntention UnsignedIntention(v1::Intention body) {
  DecodedIntention out;
  std::string bytes = body.SerializeAsString();
  out.body = std::move(body);
  out.hash = Blake2b256(bytes);
  out.signed_intention.set_body(std::move(bytes));
  return out;
}

void SignBody(const KeyPair& key, v1::SignedIntention* signed_intention) {
  signed_intention->set_signature(
      Sign(key, kIntentionSigningContext, signed_intention->body()));
}

}  // namespace lattice::kernel
