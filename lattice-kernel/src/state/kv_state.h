// The kv state machine (op_type kv.v1), also behind root stores. Each key keeps its heads:
// the writes to it that no other applied write replaced. Reads return the winner (highest
// hlc, then author, then hash) and whether the key is conflicted (more than one head).
#pragma once

#include <google/protobuf/arena.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "state/state_machine.h"
#include "storage/database.h"

namespace lattice::kernel {

class KvStateMachine final : public StateMachine {
 public:
  std::string_view op_type() const override;
  absl::Status Apply(BatchView& view, const DecodedIntention& intention,
                     Freshness freshness) override;
};

// Checks a kv.v1 payload against the limits without applying it.
absl::StatusOr<v1::KvPayload> ParseKvPayload(std::string_view payload);
// The same into `parsed` (which may live on an arena); it holds nothing useful on error.
absl::Status ParseKvPayloadInto(std::string_view payload, v1::KvPayload* parsed);
// For the arena a kv payload is built or applied in, with its keys' heads: its first block
// fits a lone write, and blocks grow for a batch of a thousand ops, whose keys, values and
// heads are then freed at once rather than one by one.
google::protobuf::ArenaOptions KvArenaOptions();

// Calls `visit` with each key the kv intentions among `applied` write, in order, until it
// returns false. Intentions of other op types, or whose payload does not parse, are skipped.
// For listeners of a root store deciding whether a commit touched what they watch.
void ForEachKeyWritten(const std::vector<DecodedIntention>& applied,
                       const std::function<bool(std::string_view key)>& visit);

std::string KvHeadsKey(std::string_view key);
// Prefix of every heads record; the user key follows it.
std::string KvHeadsPrefix();

// Orders heads winner first.
void SortHeads(v1::KvHeads* heads);

// Heads of `key` as committed, winner first; empty when the key was never written.
absl::StatusOr<v1::KvHeads> ReadHeads(const Database& db, std::string_view key);
// Heads of `key` including what `view` has applied but not committed, winner first.
v1::KvHeads ReadHeads(BatchView& view, std::string_view key);

struct KvRead {
  bool found = false;          // false when absent or when the winner is a deletion
  bool conflicted = false;
  v1::KvHead winner;
};
KvRead ResolveHeads(const v1::KvHeads& heads);

}  // namespace lattice::kernel
