#include "state/kv_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

constexpr char kHeadsTable = 'k';
constexpr char kSupersededTable = 'x';
constexpr size_t kMaxReplacesPerOp = 256;

// Marks that `hash` was replaced as a head of `key` before `hash` itself arrived here, so it
// must not become a head when it does.
std::string SupersededKey(std::string_view hash, std::string_view key) {
  std::string k{keys::kState, kSupersededTable};
  k.append(hash).append(key);
  return k;
}

bool HeadBefore(const v1::KvHead& a, const v1::KvHead& b) {
  if (a.hlc().wall_ms() != b.hlc().wall_ms()) return a.hlc().wall_ms() > b.hlc().wall_ms();
  if (a.hlc().counter() != b.hlc().counter()) return a.hlc().counter() > b.hlc().counter();
  if (a.author() != b.author()) return a.author() > b.author();
  return a.hash() > b.hash();
}

}  // namespace

google::protobuf::ArenaOptions KvArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 4 << 10;
  options.max_block_size = 256 << 10;
  return options;
}

std::string KvHeadsPrefix() { return std::string{keys::kState, kHeadsTable}; }

std::string KvHeadsKey(std::string_view key) {
  std::string k = KvHeadsPrefix();
  k.append(key);
  return k;
}

void SortHeads(v1::KvHeads* heads) {
  std::sort(heads->mutable_heads()->begin(), heads->mutable_heads()->end(), HeadBefore);
}

void ForEachKeyWritten(const std::vector<DecodedIntention>& applied,
                       const std::function<bool(std::string_view key)>& visit) {
  for (const auto& intention : applied) {
    if (intention.body.op_type() != kOpKv) continue;
    v1::KvPayload payload;
    if (!payload.ParseFromString(intention.body.payload())) continue;
    for (const auto& op : payload.ops()) {
      if (!visit(op.key())) return;
    }
  }
}

absl::StatusOr<v1::KvPayload> ParseKvPayload(std::string_view payload) {
  v1::KvPayload parsed;
  LATTICE_RETURN_IF_ERROR(ParseKvPayloadInto(payload, &parsed));
  return parsed;
}

absl::Status ParseKvPayloadInto(std::string_view payload, v1::KvPayload* parsed_out) {
  v1::KvPayload& parsed = *parsed_out;
  if (!parsed.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("kv payload is not a valid KvPayload message");
  }
  if (parsed.ops_size() == 0) return absl::InvalidArgumentError("kv payload has no operations");
  if (static_cast<size_t>(parsed.ops_size()) > limits::kMaxBatchOps) {
    return LimitExceeded("kv batch", parsed.ops_size(), limits::kMaxBatchOps, "operations");
  }
  // The first op that writes a key an earlier op wrote: its checks come first, as they would
  // in one pass, so a payload wrong in several ways always names the same problem.
  std::vector<std::pair<std::string_view, int>> keys;
  keys.reserve(static_cast<size_t>(parsed.ops_size()));
  for (int i = 0; i < parsed.ops_size(); ++i) keys.emplace_back(parsed.ops(i).key(), i);
  std::sort(keys.begin(), keys.end());
  int first_repeat = parsed.ops_size();
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i].first == keys[i - 1].first) first_repeat = std::min(first_repeat, keys[i].second);
  }
  int index = 0;
  for (const auto& op : parsed.ops()) {
    if (op.key().empty()) return absl::InvalidArgumentError("kv key must not be empty");
    if (op.key().size() > limits::kMaxKeyBytes) {
      return LimitExceeded("kv key", op.key().size(), limits::kMaxKeyBytes);
    }
    if (op.value().size() > limits::kMaxValueBytes) {
      return LimitExceeded("kv value", op.value().size(), limits::kMaxValueBytes);
    }
    if (op.tombstone() && !op.value().empty()) {
      return absl::InvalidArgumentError("kv deletion carries a value");
    }
    if (static_cast<size_t>(op.replaces_size()) > kMaxReplacesPerOp) {
      return LimitExceeded("kv replaced heads", op.replaces_size(), kMaxReplacesPerOp,
                           "entries");
    }
    for (const auto& hash : op.replaces()) {
      if (hash.size() != kHashBytes) return absl::InvalidArgumentError("kv replaces a bad hash");
    }
    if (index++ == first_repeat) {
      return absl::InvalidArgumentError("kv batch writes the same key twice");
    }
  }
  return absl::OkStatus();
}

std::string_view KvStateMachine::op_type() const { return kOpKv; }

absl::Status KvStateMachine::Apply(BatchView& view, const DecodedIntention& intention,
                                   Freshness freshness) {
  if (intention.body.op_type() != kOpKv) {
    return absl::InvalidArgumentError(
        fmt::format("op_type \"{}\" is not understood by a kv store", intention.body.op_type()));
  }
  // The payload and each key's heads live in an arena freed at once at the end: a batch of a
  // thousand ops would otherwise allocate and free each key, value, hash and head alone.
  google::protobuf::Arena arena(KvArenaOptions());
  auto* payload = google::protobuf::Arena::CreateMessage<v1::KvPayload>(&arena);
  LATTICE_RETURN_IF_ERROR(ParseKvPayloadInto(intention.body.payload(), payload));

  for (const auto& op : payload->ops()) {
    auto* heads = google::protobuf::Arena::CreateMessage<v1::KvHeads>(&arena);
    std::string heads_key = KvHeadsKey(op.key());
    if (auto stored = view.Get(heads_key)) heads->ParseFromString(*stored);

    std::set<std::string_view> replaced(op.replaces().begin(), op.replaces().end());
    v1::KvHeads& kept = *google::protobuf::Arena::CreateMessage<v1::KvHeads>(&arena);
    for (auto& head : *heads->mutable_heads()) {
      if (replaced.erase(head.hash()) == 0) *kept.add_heads() = std::move(head);
    }
    // A replaced head we have not seen yet: remember it so it never becomes a head.
    for (std::string_view hash : replaced) {
      if (!view.Contains(keys::Intention(hash))) view.Put(SupersededKey(hash, op.key()), "");
    }

    std::string superseded = SupersededKey(intention.hash, op.key());
    if (freshness == Freshness::kUnknown && view.Contains(superseded)) {
      view.Delete(superseded);
    } else {
      v1::KvHead* head = kept.add_heads();
      head->set_hash(intention.hash);
      *head->mutable_hlc() = intention.body.hlc();
      head->set_author(intention.body.author());
      head->set_value(op.value());
      head->set_tombstone(op.tombstone());
    }
    SortHeads(&kept);
    if (kept.heads_size() == 0) {
      view.Delete(heads_key);
    } else {
      view.Put(heads_key, kept.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::KvHeads> ReadHeads(const Database& db, std::string_view key) {
  LATTICE_ASSIGN_OR_RETURN(auto stored, db.Get(KvHeadsKey(key)));
  v1::KvHeads heads;
  if (stored && !heads.ParseFromString(*stored)) {
    return absl::DataLossError("stored heads of a key do not parse");
  }
  return heads;
}

v1::KvHeads ReadHeads(BatchView& view, std::string_view key) {
  v1::KvHeads heads;
  if (auto stored = view.Get(KvHeadsKey(key))) heads.ParseFromString(*stored);
  return heads;
}

KvRead ResolveHeads(const v1::KvHeads& heads) {
  KvRead read;
  if (heads.heads_size() == 0) return read;
  read.winner = heads.heads(0);
  read.found = !read.winner.tombstone();
  read.conflicted = heads.heads_size() > 1;
  return read;
}

}  // namespace lattice::kernel
