// Replays of a store's witness log, both run by the writer alone (store/group_commit.cc,
// RunAlone) so no write lands meanwhile:
// - verification (Store::Verify) recomputes the state from the stored intentions into a
//   scratch database, checking each signature, hash, dependency order and recorded verdict on
//   the way, and compares the result with the live state and the sync index;
// - re-examination (Store::Reexamine) brings one author's intentions in line with its
//   rights after a revocation or re-admission, rebuilding the live state in one batch when
//   a verdict changes.
// Both walk the log with the one replay loop below, in witness order: the order the
// intentions were applied in, so a replay in it reproduces the state.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <functional>
#include <set>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "storage/keys.h"
#include "store/intention_applier.h"
#include "store/store.h"
#include "store/sync_snapshot.h"

namespace lattice::kernel {
namespace {

// Verification stops listing problems after this many: the store is broken either way.
constexpr size_t kMaxVerifyProblems = 100;
// Verification writes its scratch database in batches of about this size.
constexpr size_t kScratchBatchBytes = 4 << 20;

// One entry of the witness log, read back.
struct ReplayedIntention {
  v1::StoredIntention record;  // as stored: its verdicts (revoked, noop_reason) included
  DecodedIntention decoded;
};

enum class Signatures { kTrusted, kChecked };

// Gets each entry of the witness log in order, or the error reading it, whose message names
// the entry (DATA_LOSS for a missing or unreadable intention, the decoder's error for one
// that does not decode). kChecked verifies each signature again; kTrusted relies on the
// check made on arrival. Returns false to stop the replay.
using ReplayVisitor = std::function<bool(uint64_t witness, std::string_view hash,
                                         absl::StatusOr<ReplayedIntention>& entry)>;

// The replay loop; fails only when the log itself cannot be read.
absl::Status ReplayWitnessLog(const Database& db, Signatures signatures,
                              const ReplayVisitor& visit) {
  std::string prefix = keys::Table(keys::kWitness);
  return db.Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view hash) {
    uint64_t witness = keys::ReadBigEndian64(k.substr(1));
    absl::StatusOr<ReplayedIntention> entry = ReplayedIntention{};
    auto stored = db.Get(keys::Intention(hash));
    if (!stored.ok() || !*stored || !entry->record.ParseFromString(**stored)) {
      entry = absl::DataLossError(
          fmt::format("witness {} names a missing intention {}", witness, ToHex(hash)));
      return visit(witness, hash, entry);
    }
    auto decoded = signatures == Signatures::kChecked ? DecodeAndVerify(entry->record.intention())
                                                      : DecodeTrusted(entry->record.intention());
    if (decoded.ok()) {
      entry->decoded = *std::move(decoded);
    } else {
      entry = absl::Status(decoded.status().code(), fmt::format("intention {}: {}", ToHex(hash),
                                                                decoded.status().message()));
    }
    return visit(witness, hash, entry);
  });
}

absl::StatusOr<std::string> HashStateTable(const Database& db) {
  Blake2bHasher hasher;
  std::string prefix = keys::Table(keys::kState);
  LATTICE_RETURN_IF_ERROR(db.Scan(prefix, keys::PrefixEnd(prefix),
                                  [&](std::string_view k, std::string_view v) {
                                    hasher.UpdateField(k);
                                    hasher.UpdateField(v);
                                    return true;
                                  }));
  return ToHex(hasher.Finish());
}

}  // namespace

absl::StatusOr<std::string> Store::StateHash() const { return HashStateTable(*db_); }

absl::StatusOr<uint64_t> Store::ReexamineQuiet(const std::string& author,
                                               const AuthorRights& rights) {
  // Every applied intention of the author: the first at each seq, and the other branch of
  // each fork.
  std::vector<std::pair<uint64_t, std::string>> written;
  std::string seq_prefix = keys::AuthorSeq(author, 0).substr(0, 1 + kNodeIdBytes);
  LATTICE_RETURN_IF_ERROR(db_->Scan(seq_prefix, keys::PrefixEnd(seq_prefix),
                                    [&](std::string_view k, std::string_view v) {
                                      written.emplace_back(
                                          keys::ReadBigEndian64(k.substr(seq_prefix.size())),
                                          std::string(v));
                                      return true;
                                    }));
  LATTICE_ASSIGN_OR_RETURN(auto proofs, ForkProofs());
  for (const auto& proof : proofs) {
    auto second = DecodeTrusted(proof.second());
    if (second.ok() && second->body.author() == author) {
      written.emplace_back(second->body.seq(), second->hash);
    }
  }
  std::set<std::string> flips;
  for (const auto& [seq, hash] : written) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    v1::StoredIntention record;
    if (!stored || !record.ParseFromString(*stored)) continue;  // floating: judged on arrival
    bool should_be_void = !rights.member || rights.Voids(seq);
    if (record.revoked() != should_be_void) flips.insert(hash);
  }
  if (flips.empty()) return 0;

  // Rebuild the state from the witness log with the new verdicts, in one batch.
  spdlog::info("store {}: {} intentions of {} change standing; rebuilding the state",
               FormatStoreId(options_.id), flips.size(), ShortHex(author));
  BatchView view(*db_);
  std::vector<std::string> state_keys;
  view.ScanPrefix(keys::Table(keys::kState), [&](std::string_view k, std::string_view) {
    state_keys.emplace_back(k);
    return true;
  });
  for (const auto& key : state_keys) view.Delete(key);
  auto machine = MakeStateMachine(options_.type);
  uint64_t noops = 0;
  absl::Status replay_error;
  LATTICE_RETURN_IF_ERROR(ReplayWitnessLog(
      *db_, Signatures::kTrusted,
      [&](uint64_t, std::string_view hash, absl::StatusOr<ReplayedIntention>& entry) {
        if (!entry.ok()) {
          replay_error = entry.status();
          return false;
        }
        const v1::StoredIntention& record = entry->record;
        v1::StoredIntention updated = record;
        if (flips.count(std::string(hash))) updated.set_revoked(!record.revoked());
        if (updated.revoked()) {
          updated.set_noop_reason(VoidIntentionReason(entry->decoded.body.author()));
        } else {
          absl::Status applied = machine->Apply(view, entry->decoded, Freshness::kUnknown);
          updated.set_noop_reason(applied.ok() ? "" : std::string(applied.message()));
        }
        if (!updated.noop_reason().empty()) ++noops;
        if (updated.revoked() != record.revoked() ||
            updated.noop_reason() != record.noop_reason()) {
          view.Put(keys::Intention(hash), updated.SerializeAsString());
        }
        return true;
      }));
  LATTICE_RETURN_IF_ERROR(replay_error);
  state_.noops = noops;
  state_.noops_dirty = true;
  state_.FlushFrontier(view);
  absl::Status commit = view.status();
  if (commit.ok()) commit = Commit(view.batch(), /*sync=*/true, state_.last_witness);
  if (!commit.ok()) {
    (void)db_->ReopenAfterFailure();
    (void)LoadWriterState();
    return commit;
  }
  noop_count_.store(state_.noops);
  return flips.size();
}

VerifyReport Store::VerifyQuiet(const std::string& scratch_dir) {
  VerifyReport report;
  std::error_code ignored;
  std::filesystem::remove_all(scratch_dir, ignored);
  auto scratch = Database::Open(scratch_dir);
  if (!scratch.ok()) {
    report.problems.push_back("cannot open scratch database: " +
                              std::string(scratch.status().message()));
    return report;
  }
  auto replay_machine = MakeStateMachine(options_.type);
  auto view = std::make_unique<BatchView>(**scratch);
  uint64_t expected_witness = 0;
  auto flush = [&] {
    if (auto s = (*scratch)->Write(view->batch(), false); !s.ok()) {
      report.problems.push_back("scratch write failed: " + std::string(s.message()));
    }
    view = std::make_unique<BatchView>(**scratch);
  };
  sync::Aggregate witnessed;  // what the sync index must hold
  absl::Status scan = ReplayWitnessLog(
      *db_, Signatures::kChecked,
      [&](uint64_t witness, std::string_view hash, absl::StatusOr<ReplayedIntention>& entry) {
        if (witness != ++expected_witness) {
          report.problems.push_back(
              fmt::format("witness log jumps from {} to {}", expected_witness - 1, witness));
          expected_witness = witness;
        }
        if (!entry.ok()) {
          report.problems.emplace_back(entry.status().message());
          return report.problems.size() < kMaxVerifyProblems;
        }
        const v1::StoredIntention& record = entry->record;
        const DecodedIntention& decoded = entry->decoded;
        if (decoded.hash != hash) {
          report.problems.push_back(fmt::format("intention stored under {} hashes to {}",
                                                ToHex(hash), ToHex(decoded.hash)));
        }
        for (const auto& dep : decoded.body.deps()) {
          if (!view->Contains(keys::Intention(dep))) {
            report.problems.push_back(
                fmt::format("intention {} was witnessed before its dependency {}", ToHex(hash),
                            ToHex(dep)));
          }
        }
        absl::Status applied =
            record.revoked() ? absl::PermissionDeniedError("author revoked")
                             : replay_machine->Apply(*view, decoded, Freshness::kUnknown);
        bool noop = !applied.ok();
        if (noop != !record.noop_reason().empty()) {
          report.problems.push_back(fmt::format("intention {}: replay {} but it was recorded {}",
                                                ToHex(hash), noop ? "is a no-op" : "applies",
                                                noop ? "as applied" : "as a no-op"));
        }
        if (noop) ++report.noops;
        witnessed.Add(sync::Item{decoded.body.hlc().wall_ms(), sync::IdFromBytes(decoded.hash)});
        view->Put(keys::Intention(hash), "");
        ++report.intentions;
        if (view->ApproximateSize() > kScratchBatchBytes) flush();
        return true;
      });
  if (!scan.ok()) {
    report.problems.push_back("reading the witness log failed: " + std::string(scan.message()));
  }
  flush();
  auto live = HashStateTable(*db_);
  auto replayed = HashStateTable(**scratch);
  if (live.ok()) report.state_hash = *live;
  if (replayed.ok()) report.replayed_hash = *replayed;
  if (!live.ok() || !replayed.ok() || *live != *replayed) {
    report.problems.push_back(
        "the live state differs from the state recomputed from the intentions");
  }
  auto index = SyncSnapshot::Open(*db_);
  absl::StatusOr<sync::Aggregate> indexed = index.ok() ? (*index)->Total() : index.status();
  if (!indexed.ok()) {
    report.problems.push_back("reading the sync index failed: " +
                              std::string(indexed.status().message()));
  } else if (!(*indexed == witnessed)) {
    report.problems.push_back(fmt::format(
        "the sync index sums {} intentions, not the {} witnessed ones it should", indexed->count,
        witnessed.count));
  }
  scratch->reset();
  std::filesystem::remove_all(scratch_dir, ignored);
  report.ok = report.problems.empty();
  return report;
}

}  // namespace lattice::kernel
