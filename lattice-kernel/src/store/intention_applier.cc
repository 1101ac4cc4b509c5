#include "lattice/common/status.h"
#include "store/intention_applier.h"

#include <fmt/format.h>

#include <deque>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "storage/keys.h"
#include "store/parallel_signer.h"

namespace lattice::kernel {
namespace {

IngestOutcome Outcome(IngestOutcome::Kind kind, const std::string& hash, std::string reason = {}) {
  return IngestOutcome{kind, hash, std::move(reason), {}};
}

std::string ParkedAt(uint64_t wall_ms) {
  std::string value;
  keys::AppendBigEndian64(&value, wall_ms);
  return value;
}

std::string EncodeTip(uint64_t seq, std::string_view hash) {
  std::string value;
  keys::AppendBigEndian64(&value, seq);
  value.append(hash);
  return value;
}

}  // namespace

std::string VoidIntentionReason(std::string_view author) {
  return fmt::format("void: its author {} was revoked before writing it", ShortHex(author));
}

std::vector<std::string> IntentionApplier::MissingDeps(const DecodedIntention& intention) {
  std::vector<std::string> missing;
  auto check = [&](const std::string& dep) {
    if (!view_.Contains(keys::Intention(dep))) missing.push_back(dep);
  };
  if (!intention.body.prev().empty()) check(intention.body.prev());
  for (const auto& dep : intention.body.deps()) check(dep);
  return missing;
}

IngestOutcome IntentionApplier::Ingest(const DecodedIntention& intention) {
  const std::string& hash = intention.hash;
  if (intention.body.store_id() != store_id_) {
    IngestOutcome outcome =
        Outcome(IngestOutcome::Kind::kRejected, hash, "intention belongs to another store");
    outcome.malformed = true;
    return outcome;
  }
  if (view_.Contains(keys::Intention(hash))) return Outcome(IngestOutcome::Kind::kDuplicate, hash);
  if (view_.Contains(keys::Pending(hash))) {
    return Outcome(IngestOutcome::Kind::kDuplicate, hash, "already floating");
  }
  if (intention.body.hlc().wall_ms() > clock_.WallMs() + limits::kMaxClockDriftMs) {
    return Hold(intention);
  }
  std::vector<std::string> missing = MissingDeps(intention);
  if (!missing.empty()) return Park(intention, missing);
  IngestOutcome outcome = ApplyReady(intention);
  if (outcome.kind == IngestOutcome::Kind::kApplied) ReleaseWaitingOn(hash);
  return outcome;
}

IngestOutcome IntentionApplier::Park(const DecodedIntention& intention,
                                     const std::vector<std::string>& missing) {
  const std::string& author = intention.body.author();
  uint64_t& parked = state_.floating_by_author[author];
  if (parked >= limits::kMaxFloatingPerAuthor) {
    return Outcome(IngestOutcome::Kind::kRejected, intention.hash,
                   fmt::format("author {} already has {} floating intentions, the limit",
                               ShortHex(author), limits::kMaxFloatingPerAuthor));
  }
  ++parked;
  ++state_.floating_total;
  view_.Put(keys::Pending(intention.hash), intention.signed_intention.SerializeAsString());
  view_.Put(keys::PendingByAuthor(author, intention.hash), ParkedAt(clock_.WallMs()));
  for (const auto& dep : missing) view_.Put(keys::Missing(dep, intention.hash), "");
  IngestOutcome outcome = Outcome(IngestOutcome::Kind::kFloating, intention.hash,
                                  fmt::format("waiting for {} missing dependencies, first {}",
                                              missing.size(), ToHex(missing.front())));
  // Only what is not here at all is worth fetching: a dependency that floats itself
  // arrived already and waits for its own.
  for (const auto& dep : missing) {
    if (!view_.Contains(keys::Pending(dep))) outcome.missing.push_back(dep);
  }
  return outcome;
}

IngestOutcome IntentionApplier::Hold(const DecodedIntention& intention) {
  const std::string& author = intention.body.author();
  uint64_t& parked = state_.floating_by_author[author];
  if (parked >= limits::kMaxFloatingPerAuthor) {
    return Outcome(IngestOutcome::Kind::kRejected, intention.hash,
                   "too many floating intentions from this author");
  }
  ++parked;
  ++state_.floating_total;
  view_.Put(keys::Pending(intention.hash), intention.signed_intention.SerializeAsString());
  view_.Put(keys::PendingByAuthor(author, intention.hash), ParkedAt(clock_.WallMs()));
  view_.Put(keys::Held(intention.body.hlc().wall_ms(), intention.hash), "");
  return Outcome(IngestOutcome::Kind::kHeld, intention.hash,
                 "stamped more than the allowed drift into the future; held until then");
}

void IntentionApplier::Unpark(std::string_view hash, std::string_view author) {
  view_.Delete(keys::Pending(hash));
  view_.Delete(keys::PendingByAuthor(author, hash));
  auto it = state_.floating_by_author.find(std::string(author));
  if (it != state_.floating_by_author.end() && it->second > 0 && --it->second == 0) {
    state_.floating_by_author.erase(it);
  }
  if (state_.floating_total > 0) --state_.floating_total;
}

absl::Status IntentionApplier::CheckChain(const DecodedIntention& intention) {
  if (intention.body.seq() == 1) return absl::OkStatus();
  auto stored = view_.Get(keys::Intention(intention.body.prev()));
  v1::StoredIntention prev_record;
  v1::Intention prev;
  if (!stored || !prev_record.ParseFromString(*stored) ||
      !prev.ParseFromString(prev_record.intention().body())) {
    return absl::DataLossError("the previous intention of the chain cannot be read");
  }
  if (prev.author() != intention.body.author() || prev.seq() + 1 != intention.body.seq()) {
    return absl::InvalidArgumentError(fmt::format(
        "broken chain: seq {} names as prev an intention of another author or seq {}",
        intention.body.seq(), prev.seq()));
  }
  return absl::OkStatus();
}

void IntentionApplier::RecordForkIfAny(const DecodedIntention& intention) {
  const std::string& author = intention.body.author();
  uint64_t seq = intention.body.seq();
  auto other = view_.Get(keys::AuthorSeq(author, seq));
  if (!other || *other == intention.hash) return;
  std::string fork_key = keys::Fork(author, seq);
  if (view_.Contains(fork_key)) return;
  v1::StoredIntention first;
  if (auto stored = view_.Get(keys::Intention(*other))) first.ParseFromString(*stored);
  v1::ForkProof proof;
  *proof.mutable_first() = first.intention();
  *proof.mutable_second() = intention.signed_intention;
  view_.Put(fork_key, proof.SerializeAsString());
}

IngestOutcome IntentionApplier::ApplyReady(const DecodedIntention& intention, uint64_t* witness) {
  const std::string& hash = intention.hash;
  const std::string& author = intention.body.author();
  if (auto s = CheckChain(intention); !s.ok()) {
    IngestOutcome outcome = Outcome(IngestOutcome::Kind::kRejected, hash, std::string(s.message()));
    outcome.malformed = s.code() == absl::StatusCode::kInvalidArgument;
    return outcome;
  }
  AuthorRights rights = may_write_ ? may_write_(author, view_) : AuthorRights(true);
  if (!rights.member) {
    return Outcome(IngestOutcome::Kind::kRejected, hash,
                   fmt::format("author {} is not an active member of this store's mesh",
                               ShortHex(author)));
  }
  RecordForkIfAny(intention);
  auto tip = view_.Get(keys::AuthorTip(author));
  if (!tip || keys::ReadBigEndian64(*tip) < intention.body.seq()) {
    view_.Put(keys::AuthorTip(author), EncodeTip(intention.body.seq(), hash));
  }
  return Record(intention, witness, Freshness::kUnknown, rights.Voids(intention.body.seq()));
}

IngestOutcome IntentionApplier::ApplyOwn(const DecodedIntention& intention, uint64_t* witness) {
  view_.Put(keys::AuthorTip(intention.body.author()),
            EncodeTip(intention.body.seq(), intention.hash));
  return Record(intention, witness, Freshness::kJustSigned);
}

// Writes what every applied intention leaves: its record, witness number, chain and sync
// index entries, the frontier, and the state machine's effects (or the no-op reason).
IngestOutcome IntentionApplier::Record(const DecodedIntention& intention, uint64_t* witness,
                                       Freshness freshness, bool is_void) {
  const std::string& hash = intention.hash;
  const std::string& author = intention.body.author();
  v1::StoredIntention record;
  *record.mutable_intention() = intention.signed_intention;
  record.set_witness(++state_.last_witness);
  if (is_void) {
    // Kept (others may depend on it and it replicates like any intention) but void.
    record.set_revoked(true);
    record.set_noop_reason(VoidIntentionReason(author));
  } else if (auto s = state_machine_.Apply(view_, intention, freshness); !s.ok()) {
    record.set_noop_reason(std::string(s.message()));
  }
  state_machine_.Witnessed(view_, intention);
  if (!record.noop_reason().empty()) {
    ++state_.noops;
    state_.noops_dirty = true;
  }
  view_.Put(keys::Intention(hash), record.SerializeAsString());
  view_.Put(keys::Witness(record.witness()), hash);
  // A new intention of ours has a seq and an id nothing holds yet: written without asking.
  bool fresh = freshness == Freshness::kJustSigned;
  std::string author_seq = keys::AuthorSeq(author, intention.body.seq());
  if (fresh || !view_.Contains(author_seq)) view_.Put(author_seq, hash);
  uint64_t stamp = intention.body.hlc().wall_ms();
  sync::ItemId id = sync::IdFromBytes(hash);
  absl::StatusOr<bool> indexed = sync_index_.Add(index_writer_, stamp, id);
  if (!indexed.ok()) view_.Fail(indexed.status());
  else if (*indexed) ++index_items_added_;
  auto cite = [&](const std::string& dep) { state_.frontier.erase(dep); };
  if (!intention.body.prev().empty()) cite(intention.body.prev());
  for (const auto& dep : intention.body.deps()) cite(dep);
  state_.frontier.insert(hash);
  state_.frontier_dirty = true;
  clock_.Observe(intention.hlc());
  if (witness != nullptr) *witness = record.witness();
  state_.applied_in_group.push_back(hash);
  if (state_.keep_applied_intentions) state_.applied_intentions.push_back(intention);
  IngestOutcome outcome = Outcome(IngestOutcome::Kind::kApplied, hash, record.noop_reason());
  if (intention.signed_intention.signature().empty()) {
    size_t kept_at = state_.keep_applied_intentions ? state_.applied_intentions.size() - 1 : kNotKept;
    unsigned_.push_back({hash, std::move(record), kept_at});
  }
  return outcome;
}

void IntentionApplier::SignOwn(const KeyPair& key) {
  if (unsigned_.empty()) return;
  std::vector<v1::SignedIntention*> intentions;
  intentions.reserve(unsigned_.size());
  for (auto& pending : unsigned_) intentions.push_back(pending.record.mutable_intention());
  SignAll(key, intentions);
  for (auto& pending : unsigned_) {
    const v1::SignedIntention& signed_intention = pending.record.intention();
    view_.Put(keys::Intention(pending.hash), pending.record.SerializeAsString());
    if (pending.kept_at != kNotKept) {
      state_.applied_intentions[pending.kept_at].signed_intention.set_signature(
          signed_intention.signature());
    }
  }
  unsigned_.clear();
}

void IntentionApplier::Finish() { index_writer_.FlushTo(view_); }

void IntentionApplier::ReleaseWaitingOn(const std::string& applied_hash) {
  // Iterative on purpose: a long parked chain must not recurse once per link.
  std::deque<std::string> ready{applied_hash};
  while (!ready.empty()) {
    std::string hash = std::move(ready.front());
    ready.pop_front();
    std::vector<std::string> waiting;
    std::string prefix = keys::MissingPrefix(hash);
    view_.ScanPrefix(prefix, [&](std::string_view k, std::string_view) {
      waiting.emplace_back(k.substr(prefix.size()));
      return true;
    });
    for (const auto& waiter : waiting) {
      view_.Delete(keys::Missing(hash, waiter));
      auto stored = view_.Get(keys::Pending(waiter));
      if (!stored) continue;
      v1::SignedIntention signed_intention;
      signed_intention.ParseFromString(*stored);
      auto decoded = DecodeTrusted(signed_intention);
      if (!decoded.ok()) continue;
      if (!MissingDeps(*decoded).empty()) continue;
      Unpark(waiter, decoded->body.author());
      if (ApplyReady(*decoded).kind == IngestOutcome::Kind::kApplied) ready.push_back(waiter);
    }
  }
}

uint64_t IntentionApplier::ExpireFloating(uint64_t parked_before_ms) {
  std::vector<std::pair<std::string, std::string>> expired;  // (author, hash)
  view_.ScanPrefix(keys::Table(keys::kPendingByAuthor), [&](std::string_view k, std::string_view v) {
    if (v.size() == 8 && keys::ReadBigEndian64(v) < parked_before_ms) {
      expired.emplace_back(k.substr(1, kNodeIdBytes), k.substr(1 + kNodeIdBytes));
    }
    return true;
  });
  uint64_t dropped = 0;
  for (const auto& [author, hash] : expired) {
    auto stored = view_.Get(keys::Pending(hash));
    v1::SignedIntention signed_intention;
    if (!stored || !signed_intention.ParseFromString(*stored)) continue;
    auto decoded = DecodeTrusted(signed_intention);
    if (!decoded.ok()) continue;
    // A held intention waits for the clock, not for a dependency: it stays.
    if (view_.Contains(keys::Held(decoded->body.hlc().wall_ms(), hash))) continue;
    if (!decoded->body.prev().empty()) view_.Delete(keys::Missing(decoded->body.prev(), hash));
    for (const auto& dep : decoded->body.deps()) view_.Delete(keys::Missing(dep, hash));
    Unpark(hash, author);
    ++dropped;
  }
  return dropped;
}

std::optional<uint64_t> EarliestHeldDueMs(const Database& db) {
  std::string prefix = keys::Table(keys::kHeld);
  std::optional<uint64_t> stamped;
  absl::Status scan = db.Scan(prefix, keys::PrefixEnd(prefix),
                              [&](std::string_view k, std::string_view) {
    if (k.size() >= 1 + 8) stamped = keys::ReadBigEndian64(k.substr(1));
    return false;  // keys sort by stamp: the first is the earliest
  });
  if (!scan.ok()) return 0;
  if (!stamped) return std::nullopt;
  // ReleaseHeld releases what is stamped at most the allowed drift ahead of the clock.
  return *stamped > limits::kMaxClockDriftMs ? *stamped - limits::kMaxClockDriftMs : 0;
}

void IntentionApplier::ReleaseHeld() {
  uint64_t horizon = clock_.WallMs() + limits::kMaxClockDriftMs;
  std::vector<std::string> due;
  view_.ScanPrefix(keys::Table(keys::kHeld), [&](std::string_view k, std::string_view) {
    if (keys::ReadBigEndian64(k.substr(1)) > horizon) return false;
    due.emplace_back(k);
    return true;
  });
  for (const auto& held_key : due) {
    view_.Delete(held_key);
    std::string hash = held_key.substr(1 + 8);
    auto stored = view_.Get(keys::Pending(hash));
    if (!stored) continue;
    v1::SignedIntention signed_intention;
    signed_intention.ParseFromString(*stored);
    auto decoded = DecodeTrusted(signed_intention);
    if (!decoded.ok()) continue;
    Unpark(hash, decoded->body.author());
    Ingest(*decoded);
  }
}

}  // namespace lattice::kernel
