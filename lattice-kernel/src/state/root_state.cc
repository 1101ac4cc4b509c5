#include "state/root_state.h"

#include "state/root_rules.h"
#include "storage/keys.h"

namespace lattice::kernel {

std::string_view RootStateMachine::op_type() const { return kv_.op_type(); }

absl::Status RootStateMachine::Apply(BatchView& view, const DecodedIntention& intention,
                                     Freshness freshness) {
  if (intention.body.op_type() == kOpKv) {
    // What does not parse is left to the kv machine, which says why.
    if (auto payload = ParseKvPayload(intention.body.payload()); payload.ok()) {
      if (auto allowed = CheckRootWrite(intention.body.author(), *payload); !allowed.ok()) {
        return allowed;
      }
    }
  }
  return kv_.Apply(view, intention, freshness);
}

void RootStateMachine::Witnessed(BatchView& view, const DecodedIntention& intention) {
  if (StandingChangesOf(intention).empty()) return;
  view.Put(keys::Standing(intention.body.hlc().wall_ms(), intention.body.hlc().counter(),
                          intention.hash),
           "");
}

}  // namespace lattice::kernel
