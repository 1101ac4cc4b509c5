// Where a live-event client stands in a store's witness log, as the SSE `id:` says it.
//
// An id "C" means: every event up to and including intention C has been seen. Several events
// may share a cursor (a batch writes many keys in one intention); the event that is not the
// last of its intention carries "C.j": everything up to intention C-1, and the first j events
// of C. Resuming from "C.j" watches from C-1 and skips those j events, so a client that drops
// in the middle of a batch misses nothing and sees nothing twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lattice::web {

struct EventPosition {
  uint64_t complete = 0;  // every intention up to this cursor has been seen
  uint64_t partial = 0;   // and the first `partial` events of intention complete+1

  // The intention this position is in (partial) or has just completed.
  uint64_t intention() const { return partial == 0 ? complete : complete + 1; }

  std::string ToId() const;
  // Parses "C" or "C.j" (decimal, j >= 1); nullopt otherwise.
  static std::optional<EventPosition> Parse(std::string_view id);
  bool operator==(const EventPosition&) const = default;
};

}  // namespace lattice::web
