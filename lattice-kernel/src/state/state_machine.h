// The interface every store type implements: apply one intention's payload into a batch.
// State lives under the keys::kState table, and depends only on the set of applied
// intentions (never on the local witness order), so every node converges to the same bytes.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "dag/intention.h"
#include "storage/batch_view.h"

namespace lattice::kernel {

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  virtual std::string_view op_type() const = 0;

  // Checks the payload and, when it is usable, writes its effects into `view`. When it is
  // not, returns the reason and writes nothing: the intention becomes a recorded no-op.
  // REQUIRES: every dependency of `intention` has been applied in `view`.
  virtual absl::Status Apply(BatchView& view, const DecodedIntention& intention) = 0;
};

}  // namespace lattice::kernel
