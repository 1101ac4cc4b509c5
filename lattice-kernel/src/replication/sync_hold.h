// When a due reconciliation of a store starts (DESIGN §7). While gossip pushes of a store are
// in flight (queued here, on the wire, or still being applied by the receiver), a
// reconciliation finds differences those pushes are about to mend: it would push them a
// second time and fetch what is already on its way. While a mesh forms and every node
// writes, that is most of what reconciliation sends. So a due reconciliation of a store waits
// while the store has pushes queued to go out, or has sent or received a push less than
// `settle` ago (a push is not acknowledged: by then it has been applied or was lost). It
// waits at most a bound past when it fell due, so a store written without pause is still
// reconciled and a lost push still repaired.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace lattice::kernel::replication {

// Thread-safe.
class SyncHold {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SyncHold(std::chrono::milliseconds settle) : settle_(settle) {}

  // Pushes of `store_id` were queued to be sent (`count` of them) / left the queue.
  void Queued(const std::string& store_id, size_t count);
  void Dequeued(const std::string& store_id, size_t count, Clock::time_point now);
  // A push of `store_id` was sent to or received from a peer.
  void Pushed(const std::string& store_id, Clock::time_point now);

  // Whether a reconciliation of `store_id` that fell due at `due_since` still waits at
  // `now`; never once `max_hold` has passed since.
  bool Holds(const std::string& store_id, Clock::time_point due_since, Clock::time_point now,
             std::chrono::milliseconds max_hold) const;

 private:
  struct Activity {
    size_t queued = 0;
    Clock::time_point last_push{};
  };

  const std::chrono::milliseconds settle_;
  mutable std::mutex mu_;
  std::map<std::string, Activity> stores_;
};

}  // namespace lattice::kernel::replication
