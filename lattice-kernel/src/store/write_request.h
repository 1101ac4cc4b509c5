// What travels through a store's write pipeline (store/group_commit.cc): a request as it
// waits in the queue, and a group of them once built into a batch. Private to the store.
#pragma once

#include <condition_variable>
#include <memory>
#include <string>
#include <vector>

#include "storage/batch_view.h"
#include "storage/layered_reader.h"
#include "store/intention_applier.h"
#include "store/store.h"

namespace lattice::kernel {

// A blocking request lives on the submitting caller's stack until `done`; an asynchronous
// one is owned by the queue and freed once its callback ran. The writer fills in the
// results while it builds the request's group; they are final once the group is committed.
struct Store::Request {
  enum class Kind {
    kLocalKv, kLocalChat, kLocalBuilt, kForeign, kVerify, kReexamine, kReleaseHeld, kExpire,
    kSync
  };
  explicit Request(Kind k) : kind(k) {}

  Kind kind;
  std::vector<KvWrite> kv;
  v1::ChatPayload chat;
  std::string op_type;           // kLocalBuilt
  PayloadBuilder build;          // kLocalBuilt
  std::vector<DecodedIntention> foreign;
  std::string scratch_dir;
  std::string author;            // kReexamine
  AuthorRights rights;           // kReexamine
  uint64_t max_age_ms = 0;       // kExpire
  Durability durability = Durability::kSynced;  // local writes
  size_t bytes = 0;

  // Guarded by queue_mutex_: set once the results below are final, and the cv wakes the
  // caller for that. Unused by asynchronous requests, which are completed through
  // `callback`.
  bool done = false;
  std::condition_variable cv;
  WriteCallback callback;

  // Filled while the group is built; final once `done`.
  absl::StatusOr<WriteReceipt> local_result = absl::UnknownError("not processed");
  std::vector<IngestOutcome> foreign_results;
  VerifyReport verify_report;
  absl::StatusOr<uint64_t> count = uint64_t{0};  // kReexamine, kExpire

  bool IsLocalWrite() const {
    return kind == Kind::kLocalKv || kind == Kind::kLocalChat || kind == Kind::kLocalBuilt;
  }
  // Verification and re-examination read (and rebuild) the whole store: they run against a
  // quiet store, alone in their group, after everything queued before them is committed.
  bool RunsAlone() const { return kind == Kind::kVerify || kind == Kind::kReexamine; }

  // Whether the group holding this request must be synced before it is acknowledged. Held
  // releases and expiries acknowledge nothing to anyone and are redone if lost.
  bool NeedsSync() const {
    switch (kind) {
      case Kind::kLocalKv:
      case Kind::kLocalChat:
      case Kind::kLocalBuilt:
        return durability == Durability::kSynced;
      case Kind::kReleaseHeld:
      case Kind::kExpire:
        return false;
      default:
        return true;
    }
  }

  // Whether the group holding this request, committed unsynced, is synced at once behind it
  // (see Durability).
  bool SyncsAfter() const { return durability == Durability::kAppliedThenSynced; }

  // Forgets what a build filled in, for a group built again (the group it was built over
  // failed to commit).
  void ClearResults() {
    local_result = absl::UnknownError("not processed");
    foreign_results.clear();
    count = uint64_t{0};
  }
};

// A group applied into its batch by the writer, with what its commit needs from the writer's
// state at that point. The writer adds requests to it until it is sealed; read-only from
// then on: the commit stage reads it while the writer reads `view->writes()` to build the
// next group over it.
struct Store::BuiltGroup {
  std::vector<Request*> requests;
  size_t bytes = 0;
  // What the view reads through: the database, with the writes of the group that was
  // being committed while this one was built. Declared before the view, which refers to it.
  std::unique_ptr<LayeredReader> below;
  std::unique_ptr<BatchView> view;
  // Applies the requests into the view until the group is sealed.
  std::unique_ptr<IntentionApplier> applier;
  absl::Status status;      // the view's: a group that could not be read right fails whole
  bool needs_sync = false;  // one of its requests must be acknowledged durable
  bool sync_after = false;  // one of its requests must be durable at once after its reply
  bool wants_recorded = false;
  // The writer's counters once the group is applied, published when it commits.
  uint64_t last_witness = 0;
  uint64_t floating_total = 0;
  uint64_t noops = 0;
  // Its changes to the sync index, for the resident levels once it is committed.
  sync::IndexUpdate sync_update;
  // Set by its commit: the sync index is due a compaction once writes stop.
  bool index_quiet_due = false;
  // What it applied, in witness order, for listeners; the intentions only when kept
  // (WriterState::keep_applied_intentions).
  std::vector<std::string> applied_hashes;
  std::vector<DecodedIntention> applied_intentions;
};

}  // namespace lattice::kernel
