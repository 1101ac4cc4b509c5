// The store's read queries, answered from its database on the caller's thread while the
// writer goes on: stored intentions by hash (for peers, in witness order and only once
// durable), the witness log, fork proofs, authors' tips, floating intentions and what they
// wait for, and the chunks applied intentions want. None of them waits for the write queue,
// except DurableForPeers when something is not durable yet (one sync barrier).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "storage/keys.h"
#include "store/chunk_wants.h"
#include "store/store.h"

namespace lattice::kernel {

absl::StatusOr<v1::SignedIntention> Store::FindIntention(std::string_view hash) const {
  LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
  if (stored) {
    v1::StoredIntention record;
    if (!record.ParseFromString(*stored)) {
      return absl::DataLossError("stored intention does not parse");
    }
    return record.intention();
  }
  LATTICE_ASSIGN_OR_RETURN(auto pending, db_->Get(keys::Pending(hash)));
  if (pending) {
    v1::SignedIntention signed_intention;
    if (!signed_intention.ParseFromString(*pending)) {
      return absl::DataLossError("floating intention does not parse");
    }
    return signed_intention;
  }
  return absl::NotFoundError(fmt::format("no intention {}", ToHex(hash)));
}

absl::StatusOr<std::vector<std::string>> Store::Lacking(
    const std::vector<std::string>& hashes) const {
  std::vector<std::string> lacking;
  for (const auto& hash : hashes) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    if (stored) continue;
    LATTICE_ASSIGN_OR_RETURN(auto pending, db_->Get(keys::Pending(hash)));
    if (!pending) lacking.push_back(hash);
  }
  return lacking;
}

absl::StatusOr<uint64_t> Store::DurableForPeers(uint64_t witness) {
  uint64_t durable = durable_witness_.load();
  if (durable >= std::max(witness, last_witness_.load())) return durable;
  return Sync();
}

absl::Status Store::FindInWitnessOrder(const std::vector<std::string>& hashes,
                                       std::vector<v1::SignedIntention>* found,
                                       std::vector<std::string>* unknown) {
  struct Witnessed {
    uint64_t witness;
    const std::string* hash;
    v1::SignedIntention intention;
  };
  std::vector<Witnessed> witnessed;
  std::vector<v1::SignedIntention> floating;
  for (const auto& hash : hashes) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    if (stored) {
      v1::StoredIntention record;
      if (!record.ParseFromString(*stored)) {
        return absl::DataLossError("stored intention does not parse");
      }
      witnessed.push_back({record.witness(), &hash, std::move(*record.mutable_intention())});
      continue;
    }
    LATTICE_ASSIGN_OR_RETURN(auto pending, db_->Get(keys::Pending(hash)));
    v1::SignedIntention signed_intention;
    if (pending && signed_intention.ParseFromString(*pending)) {
      floating.push_back(std::move(signed_intention));
    } else {
      unknown->push_back(hash);
    }
  }
  std::sort(witnessed.begin(), witnessed.end(),
            [](const auto& a, const auto& b) { return a.witness < b.witness; });
  // Everything read above was applied before this barrier, so it covers all of it.
  uint64_t durable = durable_witness_.load();
  if (!witnessed.empty() && witnessed.back().witness > durable) {
    auto synced = DurableForPeers(witnessed.back().witness);
    if (synced.ok()) {
      durable = *synced;
    } else {
      spdlog::warn("store {}: intentions not yet durable withheld from a peer: {}",
                   FormatStoreId(options_.id), synced.status().message());
      durable = durable_witness_.load();
    }
  }
  for (auto& entry : witnessed) {
    if (entry.witness > durable) {
      unknown->push_back(*entry.hash);
    } else {
      found->push_back(std::move(entry.intention));
    }
  }
  for (auto& intention : floating) found->push_back(std::move(intention));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Store::TipSeqOf(std::string_view author) const {
  LATTICE_ASSIGN_OR_RETURN(auto tip, db_->Get(keys::AuthorTip(author)));
  if (!tip) return 0;
  if (tip->size() < 8) return absl::DataLossError("an author's tip record is truncated");
  return keys::ReadBigEndian64(*tip);
}

std::vector<std::string> Store::MissingDependencies(size_t max) const {
  std::vector<std::string> missing;
  std::string prefix = keys::Table(keys::kMissing);
  (void)db_->Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    std::string hash(k.substr(1, kHashBytes));
    if (!missing.empty() && missing.back() == hash) return true;
    // A dependency that floats itself is here; what it waits for is listed on its own.
    auto floating = db_->Get(keys::Pending(hash));
    if (floating.ok() && *floating) return true;
    missing.push_back(std::move(hash));
    return missing.size() < max;
  });
  return missing;
}

std::vector<Store::FloatingInfo> Store::Floating(size_t max) const {
  std::vector<FloatingInfo> out;
  std::string prefix = keys::Table(keys::kPending);
  (void)db_->Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    v1::SignedIntention signed_intention;
    if (!signed_intention.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
    auto decoded = DecodeTrusted(signed_intention);
    if (!decoded.ok()) return true;
    FloatingInfo info;
    info.hash = decoded->hash;
    info.author = decoded->body.author();
    info.seq = decoded->body.seq();
    info.wall_ms = decoded->body.hlc().wall_ms();
    auto is_missing = [&](const std::string& dep) {
      auto applied = db_->Get(keys::Intention(dep));
      if (!applied.ok() || *applied) return false;
      auto floating = db_->Get(keys::Pending(dep));
      return floating.ok() && !*floating;
    };
    if (!decoded->body.prev().empty() && is_missing(decoded->body.prev())) {
      info.missing.push_back(decoded->body.prev());
    }
    for (const auto& dep : decoded->body.deps()) {
      if (is_missing(dep)) info.missing.push_back(dep);
    }
    auto held = db_->Get(keys::Held(info.wall_ms, info.hash));
    info.held = held.ok() && held->has_value();
    out.push_back(std::move(info));
    return out.size() < max;
  });
  return out;
}

absl::StatusOr<std::vector<std::string>> Store::WantedChunks(size_t max,
                                                             std::string_view after) const {
  if (chunks_ == nullptr) return std::vector<std::string>();
  return ListChunkWants(*db_, max, after);
}

uint64_t Store::WaitForWitness(uint64_t after,
                               std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(witness_mutex_);
  witness_cv_.wait_until(lock, deadline, [&] { return last_witness_.load() > after; });
  return last_witness_.load();
}

absl::Status Store::ReadLog(uint64_t after, size_t max, const LogVisitor& visit) const {
  std::vector<std::pair<uint64_t, std::string>> hashes;
  std::string end = keys::PrefixEnd(keys::Table(keys::kWitness));
  LATTICE_RETURN_IF_ERROR(
      db_->Scan(keys::Witness(after + 1), end, [&](std::string_view k, std::string_view v) {
        hashes.emplace_back(keys::ReadBigEndian64(k.substr(1)), std::string(v));
        return hashes.size() < max;
      }));
  for (const auto& [witness, hash] : hashes) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db_->Get(keys::Intention(hash)));
    v1::StoredIntention record;
    if (!stored || !record.ParseFromString(*stored)) {
      return absl::DataLossError(fmt::format("witness {} names a missing intention", witness));
    }
    LATTICE_ASSIGN_OR_RETURN(DecodedIntention decoded, DecodeTrusted(record.intention()));
    if (!visit(witness, decoded, !record.noop_reason().empty())) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ForkProof>> Store::ForkProofs() const {
  std::vector<v1::ForkProof> proofs;
  std::string prefix = keys::Table(keys::kFork);
  LATTICE_RETURN_IF_ERROR(
      db_->Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
        v1::ForkProof proof;
        if (proof.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
          proofs.push_back(std::move(proof));
        }
        return true;
      }));
  return proofs;
}

}  // namespace lattice::kernel
