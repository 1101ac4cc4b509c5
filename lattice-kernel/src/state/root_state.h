// The state machine of a mesh's root store: the kv machine behind the rules of
// state/root_rules.h. An intention that breaks a rule is a no-op; every intention that
// changes a member's status, void or not, is indexed (keys::kStanding) for the fold that
// derives each member's standing.
#pragma once

#include "state/kv_state.h"

namespace lattice::kernel {

class RootStateMachine final : public StateMachine {
 public:
  std::string_view op_type() const override;
  absl::Status Apply(BatchView& view, const DecodedIntention& intention,
                     Freshness freshness) override;
  void Witnessed(BatchView& view, const DecodedIntention& intention) override;

 private:
  KvStateMachine kv_;
};

}  // namespace lattice::kernel
