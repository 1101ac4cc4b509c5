// The interface every store type implements: apply one intention's payload into a batch.
// State lives under the keys::kState table, and depends only on the set of applied
// intentions (never on the local witness order), so every node converges to the same bytes.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "dag/intention.h"
#include "storage/batch_view.h"

namespace lattice::kernel {

// What is known of an intention being applied. One this node signed for the batch being
// built cannot have been seen, cited or superseded by anything yet, so the lookups that
// exist for intentions received or replayed (is it already superseded?) are skipped.
enum class Freshness {
  kUnknown,     // received from a peer, released from the floating index, or replayed
  kJustSigned,  // signed by this node for the batch being built
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  virtual std::string_view op_type() const = 0;

  // Checks the payload and, when it is usable, writes its effects into `view`. When it is
  // not, returns the reason and writes nothing: the intention becomes a recorded no-op.
  // REQUIRES: every dependency of `intention` has been applied in `view`.
  virtual absl::Status Apply(BatchView& view, const DecodedIntention& intention,
                             Freshness freshness) = 0;

  // Called for every intention the store records, after Apply or in its stead (a void
  // intention, whose author was revoked before writing it, is never applied). Writes only
  // outside the state table what the machine must know of every intention whatever its
  // fate: the state table is rebuilt from Apply alone.
  virtual void Witnessed(BatchView& /*view*/, const DecodedIntention& /*intention*/) {}
};

}  // namespace lattice::kernel
