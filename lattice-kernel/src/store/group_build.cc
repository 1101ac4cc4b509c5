// How the store's writer builds a group into its batch (StartGroup, AddToGroup, SealGroup).
// Local writes are built here (heads read, compare-and-set checked, payload planned against
// the state the writer sees), stamped, applied, and signed together; foreign intentions are
// applied or parked; the group's durability is decided at its commit.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <span>

#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/v1/fs.pb.h"
#include "state/chat_state.h"
#include "state/fs_payload.h"
#include "state/kv_state.h"
#include "state/root_rules.h"
#include "storage/keys.h"
#include "store/chunk_wants.h"
#include "store/intention_applier.h"
#include "store/write_request.h"

namespace lattice::kernel {
namespace {

// Runs of kv writes with at least this many keys have their heads read in one ordered pass
// (BatchView::Prefetch); fewer are read one Get each, which the tables' filters answer
// without a read for the new keys a few writers make.
constexpr size_t kPrefetchHeadsAtLeast = 32;

// Reads the heads of the keys of `writes` ahead together.
template <typename Requests>
void PrefetchHeads(BatchView& view, const Requests& writes) {
  size_t count = 0;
  for (const auto* request : writes) count += request->kv.size();
  if (count < kPrefetchHeadsAtLeast) return;
  std::vector<std::string> keys;
  keys.reserve(count);
  for (const auto* request : writes) {
    for (const auto& write : request->kv) keys.push_back(KvHeadsKey(write.key));
  }
  view.Prefetch(std::vector<std::string_view>(keys.begin(), keys.end()));
}

// Whether `heads` are exactly `expected` (raw hashes, any order, no repeats counted twice).
bool SameHeads(const v1::KvHeads& heads, const std::vector<std::string>& expected) {
  std::set<std::string_view> want(expected.begin(), expected.end());
  if (want.size() != static_cast<size_t>(heads.heads_size())) return false;
  for (const auto& head : heads.heads()) {
    if (want.count(head.hash()) == 0) return false;
  }
  return true;
}

// Builds the body of this node's next intention in the store: the author chain continues
// from the node's tip and the deps cite the frontier, so the new intention causally follows
// everything applied here (including every head a kv write replaces). `must_cite` (a chat
// reply's parent, the intentions of an fs delta's base versions) come first, so the frontier
// cut at limits::kMaxDeps never drops them: the state machines check those directly.
v1::Intention NextLocalBody(const std::string& store_id, const KeyPair& identity,
                            const WriterState& state, HlcStamp hlc, std::string_view op_type,
                            std::string payload, const std::vector<std::string>& must_cite) {
  v1::Intention body;
  body.set_store_id(store_id);
  body.set_author(identity.public_key);
  body.set_seq(state.own_seq + 1);
  body.set_prev(state.own_tip);
  body.mutable_hlc()->set_wall_ms(hlc.wall_ms);
  body.mutable_hlc()->set_counter(hlc.counter);
  for (const auto& cite : must_cite) {
    if (static_cast<size_t>(body.deps_size()) >= limits::kMaxDeps) break;
    if (cite.empty() || cite == state.own_tip) continue;
    if (std::find(body.deps().begin(), body.deps().end(), cite) != body.deps().end()) continue;
    body.add_deps(cite);
  }
  const size_t cited = static_cast<size_t>(body.deps_size());
  for (const auto& tip : state.frontier) {
    if (static_cast<size_t>(body.deps_size()) >= limits::kMaxDeps) break;
    if (tip == state.own_tip) continue;
    if (std::find(body.deps().begin(), body.deps().begin() + static_cast<int>(cited), tip) !=
        body.deps().begin() + static_cast<int>(cited)) {
      continue;
    }
    body.add_deps(tip);
  }
  body.set_op_type(std::string(op_type));
  body.set_payload(std::move(payload));
  return body;
}

}  // namespace

std::shared_ptr<Store::BuiltGroup> Store::StartGroup(
    std::shared_ptr<const BatchView::Writes> in_flight) {
  auto built = std::make_shared<BuiltGroup>();
  built->below = std::make_unique<LayeredReader>(*db_, std::move(in_flight));
  built->view = std::make_unique<BatchView>(*built->below);
  state_.applied_in_group.clear();
  state_.applied_intentions.clear();
  // With a chunk store the group's intentions are kept to find the chunks they cite.
  state_.keep_applied_intentions = has_listeners_.load() || chunks_ != nullptr;
  built->applier = std::make_unique<IntentionApplier>(options_.id, *built->view, state_,
                                                      *state_machine_, *options_.clock,
                                                      options_.may_write);
  return built;
}

// Where the run of kv writes starting at `begin` ends: the kv writes queued one after the
// other whose keys are all distinct, within the limits of one batch. Such a run is built into
// one intention: one signature, one record and one index item for all its writers, where
// concurrent callers each paid their own; each writer's compare-and-set is still checked
// alone (its keys are no other writer's), and the run is atomic, as a batch is.
size_t Store::KvRunEnd(const std::vector<Request*>& requests, size_t begin) {
  std::set<std::string_view> keys;
  size_t ops = 0;
  size_t bytes = 0;
  size_t end = begin;
  for (; end < requests.size(); ++end) {
    const Request& request = *requests[end];
    if (request.kind != Request::Kind::kLocalKv) break;
    if (end > begin && (ops + request.kv.size() > limits::kMaxBatchOps ||
                        bytes + request.bytes > limits::kMaxBatchBytes)) {
      break;
    }
    bool repeats = false;
    for (const auto& write : request.kv) repeats = repeats || keys.count(write.key) > 0;
    if (repeats) break;
    for (const auto& write : request.kv) keys.insert(write.key);
    ops += request.kv.size();
    bytes += request.bytes;
  }
  return end;
}

void Store::AddToGroup(BuiltGroup& built, const std::vector<Request*>& requests) {
  IntentionApplier& applier = *built.applier;
  for (size_t next = 0; next < requests.size();) {
    Request* request = requests[next];
    // What comes next may read this node's earlier records of the group whole.
    if (!request->IsLocalWrite()) applier.SignOwn(*options_.identity);
    if (request->kind == Request::Kind::kLocalKv) {
      size_t end = options_.type == StoreType::kRoot ? next + 1 : KvRunEnd(requests, next);
      AddKvWrites(built, std::span<Request* const>(requests).subspan(next, end - next));
      next = end;
      continue;
    }
    ++next;
    switch (request->kind) {
      case Request::Kind::kVerify:
      case Request::Kind::kReexamine:
        break;  // never grouped with others
      case Request::Kind::kSync:
        break;  // completed once the group is committed
      case Request::Kind::kReleaseHeld:
        applier.ReleaseHeld();
        break;
      case Request::Kind::kExpire: {
        uint64_t now = options_.clock->WallMs();
        request->count = applier.ExpireFloating(now > request->max_age_ms ? now - request->max_age_ms : 0);
        break;
      }
      case Request::Kind::kForeign:
        for (const auto& intention : request->foreign) {
          request->foreign_results.push_back(applier.Ingest(intention));
        }
        break;
      case Request::Kind::kLocalKv:
        break;  // taken above, with the kv writes queued beside it
      case Request::Kind::kLocalBuilt: {
        absl::StatusOr<std::string> built_payload = request->build(*built.view);
        if (!built_payload.ok()) {
          request->local_result = built_payload.status();
          break;
        }
        std::vector<std::string> must_cite;
        if (request->op_type == kOpFs) {
          // A write in delta form is resolved against its base on every node only when
          // this intention cites the base's (fs.proto, FsWrite.base).
          v1::FsPayload fs;
          if (fs.ParseFromString(*built_payload)) {
            for (auto& hash : FsBaseIntentions(fs)) must_cite.push_back(std::move(hash));
          }
        }
        AddLocalWrite(built, {&request, 1}, request->op_type, *std::move(built_payload),
                      must_cite);
        break;
      }
      case Request::Kind::kLocalChat: {
        const auto& chat = request->chat;
        std::string ref;
        if (chat.has_reply()) ref = chat.reply().ref();
        if (chat.has_react()) ref = chat.react().ref();
        if (!ref.empty() && !built.view->Contains(keys::Intention(ref))) {
          request->local_result = absl::NotFoundError(
              fmt::format("no message {} in this store", ToHex(ref)));
          break;
        }
        std::vector<std::string> must_cite;
        if (!ref.empty()) must_cite.push_back(std::move(ref));
        AddLocalWrite(built, {&request, 1}, kOpChat, chat.SerializeAsString(), must_cite);
        break;
      }
    }
  }

  // Signed now rather than when the group is sealed: the group may be waiting for the commit
  // before it, and once that is done the group should go to the disk at once.
  applier.SignOwn(*options_.identity);
  for (Request* request : requests) {
    built.requests.push_back(request);
    built.bytes += request->bytes;
    if (request->NeedsSync()) built.needs_sync = true;
    if (request->SyncsAfter()) built.sync_after = true;
  }
}

void Store::AddKvWrites(BuiltGroup& built, std::span<Request* const> run) {
  PrefetchHeads(*built.view, run);
  google::protobuf::Arena arena(KvArenaOptions());
  v1::KvPayload& kv = *google::protobuf::Arena::CreateMessage<v1::KvPayload>(&arena);
  std::vector<Request*> writers;
  writers.reserve(run.size());
  for (Request* request : run) {
    const int first_op = kv.ops_size();
    bool refused = false;
    for (const auto& write : request->kv) {
      v1::KvOp* op = kv.add_ops();
      op->set_key(write.key);
      op->set_value(write.value);
      op->set_tombstone(write.tombstone);
      v1::KvHeads heads = ReadHeads(*built.view, write.key);
      for (const auto& head : heads.heads()) op->add_replaces(head.hash());
      if (write.expected_heads && !SameHeads(heads, *write.expected_heads)) {
        request->local_result = absl::AbortedError(fmt::format(
            "the key {} changed: its heads are not the ones the write expects",
            Quote(write.key)));
        refused = true;
        break;
      }
    }
    if (refused) {
      // Refused alone: the others of the run write keys this one does not.
      kv.mutable_ops()->DeleteSubrange(first_op, kv.ops_size() - first_op);
      continue;
    }
    writers.push_back(request);
  }
  if (writers.empty()) return;
  std::string payload = kv.SerializeAsString();
  if (writers.size() > 1 && payload.size() > limits::kMaxPayloadBytes) {
    // Their keys and values fit one batch, but with the heads they replace the payload would
    // not fit an intention (peers refuse larger): each is built alone, as it fits.
    for (Request* writer : writers) AddKvWrites(built, {&writer, 1});
    return;
  }
  if (options_.type == StoreType::kRoot) {
    // Refused here rather than signed into a no-op.
    if (auto allowed = CheckRootWrite(options_.identity->public_key, kv); !allowed.ok()) {
      for (Request* writer : writers) writer->local_result = allowed;
      return;
    }
  }
  AddLocalWrite(built, writers, kOpKv, std::move(payload), {});
}

void Store::AddLocalWrite(BuiltGroup& built, std::span<Request* const> writers,
                          std::string_view op_type, std::string payload,
                          const std::vector<std::string>& must_cite) {
  auto complete = [&](const absl::StatusOr<WriteReceipt>& result) {
    for (Request* writer : writers) writer->local_result = result;
  };
  if (options_.may_write) {
    // A revoked node's write would count nowhere: refuse it rather than keep it here.
    AuthorRights own = options_.may_write(options_.identity->public_key, *built.view);
    if (own.member && own.Voids(state_.own_seq + 1)) {
      complete(absl::PermissionDeniedError(fmt::format(
          "{}: this node's writes to the mesh's stores count nowhere",
          own.void_reason.empty() ? "this node was revoked" : own.void_reason)));
      return;
    }
  }
  HlcStamp hlc = options_.clock->Now();
  v1::Intention body = NextLocalBody(options_.id, *options_.identity, state_, hlc, op_type,
                                     std::move(payload), must_cite);
  // Signed with the group's other own intentions (SignOwn), on several cores, except in a
  // root store, whose policy reads the group's records whole.
  DecodedIntention intention = options_.type == StoreType::kRoot
                                   ? SignIntention(*options_.identity, body)
                                   : UnsignedIntention(std::move(body));
  uint64_t witness = 0;
  IngestOutcome outcome = built.applier->ApplyOwn(intention, &witness);
  if (outcome.kind != IngestOutcome::Kind::kApplied) {
    complete(absl::FailedPreconditionError(outcome.reason));
    return;
  }
  if (!outcome.reason.empty()) {
    // Our own write was validated before it was built; a no-op here is a bug.
    complete(absl::InternalError("local write became a no-op: " + outcome.reason));
  } else {
    complete(WriteReceipt{intention.hash, witness, hlc});
  }
  state_.own_seq = intention.body.seq();
  state_.own_tip = intention.hash;
}

void Store::SealGroup(BuiltGroup& built) {
  BatchView& view = *built.view;
  built.applier->Finish();
  built.sync_update = built.applier->SyncIndexUpdate();
  built.applier.reset();
  state_.FlushFrontier(view);
  if (chunks_ != nullptr) {
    for (const auto& intention : state_.applied_intentions) {
      auto cited = ChunksCitedBy(intention.body.op_type(), intention.body.payload());
      if (cited.empty()) continue;
      auto recorded = RecordChunkWants(view, *chunks_, cited);
      if (!recorded.ok()) {
        view.Fail(recorded.status());
      } else if (*recorded > 0) {
        built.wants_recorded = true;
      }
    }
  }
  built.status = view.status();
  built.last_witness = state_.last_witness;
  built.floating_total = state_.floating_total;
  built.noops = state_.noops;
  built.applied_hashes = std::move(state_.applied_in_group);
  built.applied_intentions = std::move(state_.applied_intentions);
  state_.applied_in_group.clear();
  state_.applied_intentions.clear();
  // Made here, so the commit stage only reads the view while the next group reads it too.
  view.batch();
}

}  // namespace lattice::kernel
