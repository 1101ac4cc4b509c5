// The rules of a mesh's root store (DESIGN §5), in one place: who may write each reserved
// key, and each member's standing (active or revoked, and which of its writes are void),
// derived from the intentions that change a member's status. Every node applies the same
// rules to the same intentions, so every node reaches the same verdicts.
//
// Reserved keys under /nodes/{n}/ (n the node id in hex):
//   name, addrs, tags, services/...  written only by node n itself
//   status                           "active" or "revoked", by any member in good standing;
//                                    a revocation is final until an explicit re-admission
//   cut/{store}                      the revoker's view of n's chain in {store} (its last
//                                    seq there), only in the intention that writes n's
//                                    status: what the revocation voids starts after it
//   void/{store}                     never written: void ranges are derived (below)
//   anything else                    written only by node n itself
// An intention that breaks a rule is a recorded no-op as a whole.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "dag/hlc.h"
#include "dag/intention.h"
#include "lattice/v1/intention.pb.h"
#include "store/store.h"

namespace lattice::kernel {

inline constexpr std::string_view kMemberActive = "active";
inline constexpr std::string_view kMemberRevoked = "revoked";

// OK when `author` may make every write of `payload` to a root store; otherwise
// PERMISSION_DENIED (or INVALID_ARGUMENT for a malformed value) naming the first write that
// breaks a rule.
absl::Status CheckRootWrite(std::string_view author, const v1::KvPayload& payload);

// One change of a member's status, as one root intention states it.
struct StandingChange {
  enum class Kind { kAdmit, kRevoke, kReadmit };
  Kind kind = Kind::kAdmit;
  std::string node;                      // raw id of the member whose status changes
  std::map<std::string, uint64_t> cuts;  // by raw store id: cut/{store} of the same intention
};

// The status changes `intention` (a root store's kv intention) makes, in payload order:
// `revoked` is a revocation, `active` with cuts a re-admission, `active` alone an admission.
// Empty when it changes none or breaks a rule.
std::vector<StandingChange> StandingChangesOf(const DecodedIntention& intention);

// Where a member stands, folded from every status change of the mesh.
struct MemberStanding {
  std::string status;            // kMemberActive or kMemberRevoked
  std::string revoked_by;        // raw id of the revoker (while revoked)
  uint64_t revoked_at_ms = 0;    // the revocation's hlc wall time
  std::string revocation_hash;   // the revocation intention
  std::map<std::string, std::vector<SeqRange>> void_ranges;  // by raw store id
};

// Folds the status changes of a mesh whose root store is `mesh_id` and whose creator is
// `creator` (both raw) in (hlc, hash) order of their intentions, so the outcome depends only
// on the set of intentions, never on the order they arrived in:
// - a change counts when its author is in good standing at that point of the order: an
//   active member, the creator before anyone recorded it, or a revoked member whose seq in
//   the root store is not void (it wrote before its revocation cut);
// - an admission makes an unknown node active and leaves a revoked one revoked;
// - a revocation of an active or unknown node opens, in each store, a void range after its
//   cut (a store it gives no cut for voids everything, see RightsOf); a second revocation
//   changes nothing;
// - a re-admission of a revoked node closes each open range after its cut for that store.
// So of two members that revoke each other unaware of the other's revocation, the earlier
// revocation in (hlc, hash) order stands and the later one is void: its author had been
// revoked before writing it.
struct StandingInput {
  HlcStamp hlc;
  std::string hash;
  std::string author;
  uint64_t seq = 0;
  std::vector<StandingChange> changes;
};
std::map<std::string, MemberStanding> FoldStanding(std::vector<StandingInput> intentions,
                                                   std::string_view mesh_id,
                                                   std::string_view creator);

// The recorded form of cut/{store} values.
std::string FormatCut(uint64_t seq);

}  // namespace lattice::kernel
