// The DAG rules of DESIGN §3 applied to one group of intentions: validate the chain and the
// author, apply the ready ones through the state machine, park the ones whose dependencies
// are missing (the floating index), release parked ones when their last dependency arrives
// (iteratively), and record equivocations as fork proofs while applying both branches.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dag/hlc.h"
#include "dag/intention.h"
#include "state/state_machine.h"
#include "storage/batch_view.h"
#include "store/index_writer.h"
#include "store/store.h"
#include "sync/range_index.h"
#include "store/writer_state.h"

namespace lattice::kernel {

// The no-op reason recorded for an intention that is void because its author was revoked.
std::string VoidIntentionReason(std::string_view author);

// When, by the store's clock (wall ms), the earliest intention `db` holds back becomes due
// for IntentionApplier::ReleaseHeld; nullopt when nothing is held. A database that cannot
// be read answers 0 (due now), so a release is tried rather than the intention forgotten.
std::optional<uint64_t> EarliestHeldDueMs(const Database& db);

// Lives for one group on the writer thread.
class IntentionApplier {
 public:
  IntentionApplier(std::string_view store_id, BatchView& view, WriterState& state,
                   StateMachine& state_machine, HybridClock& clock, const AuthorPolicy& may_write)
      : store_id_(store_id), view_(view), state_(state), state_machine_(state_machine),
        clock_(clock), may_write_(may_write),
        index_writer_(view.below(), state.index_buckets, sync_index_.options().prefix + "a") {}

  // Puts what the group left for the end into the view. REQUIRES: called once, after the
  // group's last intention and SignOwn, and before the view is committed.
  void Finish();
  // What the group changed in the sync index, for its resident levels once committed.
  sync::IndexUpdate SyncIndexUpdate() const {
    return index_writer_.Update(index_items_added_, sync_index_.options());
  }

  // A foreign intention whose signature was verified.
  IngestOutcome Ingest(const DecodedIntention& intention);

  // Applies an intention whose dependencies are all present; `witness` gets its number.
  IngestOutcome ApplyReady(const DecodedIntention& intention, uint64_t* witness = nullptr);

  // Applies this node's own next intention, built by the writer from its tip and frontier:
  // its chain, authorship and uniqueness hold by construction, so they are not re-read.
  // It may come unsigned (UnsignedIntention): its record then waits for SignOwn, and until
  // then nothing may read that record's signature (the group's own later local writes only
  // look for the records, or read their bodies).
  IngestOutcome ApplyOwn(const DecodedIntention& intention, uint64_t* witness);
  // Signs the own intentions applied unsigned since the last call (on several cores when
  // they are many) and completes their records and what the group keeps for listeners.
  void SignOwn(const KeyPair& key);

  // Re-ingests held intentions whose time has come.
  void ReleaseHeld();

  // Drops floating intentions parked before `parked_before_ms` whose dependencies never
  // came (held ones stay); a peer that still has them offers them again at the next
  // reconciliation. Returns how many were dropped.
  uint64_t ExpireFloating(uint64_t parked_before_ms);

 private:
  std::vector<std::string> MissingDeps(const DecodedIntention& intention);
  IngestOutcome Park(const DecodedIntention& intention, const std::vector<std::string>& missing);
  IngestOutcome Hold(const DecodedIntention& intention);
  absl::Status CheckChain(const DecodedIntention& intention);
  void RecordForkIfAny(const DecodedIntention& intention);
  void ReleaseWaitingOn(const std::string& applied_hash);
  void Unpark(std::string_view hash, std::string_view author);
  // `is_void`: its author was revoked before it; recorded, but the state never sees it.
  IngestOutcome Record(const DecodedIntention& intention, uint64_t* witness, Freshness freshness,
                       bool is_void = false);

  std::string_view store_id_;
  BatchView& view_;
  WriterState& state_;
  StateMachine& state_machine_;
  HybridClock& clock_;
  const AuthorPolicy& may_write_;
  sync::RangeIndex sync_index_;
  // The sync index's reads and writes of this group. Finish puts its writes into the
  // group's batch: the intentions of a group share most of their trie path, so each bucket
  // is written once per group rather than once per intention.
  GroupIndexWriter index_writer_;
  uint64_t index_items_added_ = 0;
  // Own intentions applied unsigned: their records, and where the group keeps them for
  // listeners (state_.applied_intentions; kNotKept when it does not).
  struct Unsigned {
    std::string hash;
    v1::StoredIntention record;
    size_t kept_at;
  };
  static constexpr size_t kNotKept = static_cast<size_t>(-1);
  std::vector<Unsigned> unsigned_;
};

}  // namespace lattice::kernel
