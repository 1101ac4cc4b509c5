// Node: who belongs to a mesh and what each member may write. Members are read from the
// root store (/nodes/{node}/…); their standing (active, revoked, and the seq ranges voided by
// a revocation) is folded from the root's status changes by state/root_rules.h and cached
// per root witness.
#include <fmt/format.h>

#include <algorithm>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "node/node.h"
#include "node/root_values.h"
#include "state/kv_state.h"
#include "state/root_rules.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

// Reads the root intentions indexed as status changes into the fold's input.
void AddStandingInput(std::string_view standing_key, std::optional<std::string> stored,
                      std::vector<StandingInput>* out) {
  v1::StoredIntention record;
  if (!stored || !record.ParseFromString(*stored)) return;
  auto decoded = DecodeTrusted(record.intention());
  if (!decoded.ok()) return;
  StandingInput input;
  input.hlc = decoded->hlc();
  input.hash = std::string(standing_key.substr(1 + 8 + 4));
  input.author = decoded->body.author();
  input.seq = decoded->body.seq();
  input.changes = StandingChangesOf(*decoded);
  out->push_back(std::move(input));
}

}  // namespace

std::string Node::MemberName(const std::string& mesh_id, std::string_view node_id) {
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return {};
  return ReadRootValue(*root, fmt::format("/nodes/{}/name", ToHex(node_id))).value_or("");
}

bool Node::IsMember(const std::string& mesh_id, std::string_view author) {
  v1::MeshRecord mesh;
  {
    std::shared_lock lock(mutex_);
    auto it = meshes_.find(mesh_id);
    if (it == meshes_.end()) return false;
    mesh = it->second;
  }
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return false;
  auto status = ReadRootValue(*root, fmt::format("/nodes/{}/status", ToHex(author)));
  if (status) return *status == "active";
  return author == mesh.creator() || (!mesh.inviter().empty() && author == mesh.inviter());
}

std::vector<MemberInfo> Node::Members(const std::string& mesh_id) {
  std::vector<MemberInfo> out;
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return out;
  std::map<std::string, MemberInfo> by_id;
  std::string prefix = KvHeadsKey("/nodes/");
  (void)root->db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    std::string_view path = k.substr(prefix.size());  // "{hex}/{field}"
    size_t slash = path.find('/');
    if (slash == std::string_view::npos) return true;
    auto id = ParseNodeId(path.substr(0, slash));
    if (!id) return true;
    std::string_view field = path.substr(slash + 1);
    if (field != "status" && field != "name" && field != "addrs" && field != "tags") return true;
    v1::KvHeads heads;
    if (!heads.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
    KvRead read = ResolveHeads(heads);
    if (!read.found) return true;
    MemberInfo& m = by_id[*id];
    m.node_id = *id;
    const std::string& value = read.winner.value();
    if (field == "status") m.status = value;
    if (field == "name") m.name = value;
    if (field == "addrs") m.addresses = SplitList(value);
    if (field == "tags") m.tags = SplitList(value);
    return true;
  });
  // The status is the derived standing (root_rules.h), not the last value written: a
  // revocation stays until an explicit re-admission, whatever else was written.
  // Held here: a range-for over `*StandingOf(...)` would outlive the returned pointer, and
  // the cache may drop the map it points to while the loop runs.
  std::shared_ptr<const StandingMap> standings = StandingOf(mesh_id);
  for (const auto& [id, standing] : *standings) {
    MemberInfo& m = by_id[id];
    m.node_id = id;
    m.status = standing.status;
    m.revoked_by = standing.revoked_by;
    m.revoked_at_ms = standing.revoked_at_ms;
  }
  for (auto& [id, m] : by_id) {
    if (!m.status.empty()) out.push_back(std::move(m));
  }
  return out;
}

std::optional<MemberInfo> Node::Member(const std::string& mesh_id, const std::string& node_id) {
  for (auto& m : Members(mesh_id)) {
    if (m.node_id == node_id) return m;
  }
  return std::nullopt;
}

std::string RevocationText(const MemberInfo& member, std::string_view mesh_id) {
  return fmt::format("node {} was revoked from mesh {} by {} at {} (unix ms)",
                     ShortHex(member.node_id), FormatStoreId(mesh_id), ShortHex(member.revoked_by),
                     member.revoked_at_ms);
}

std::shared_ptr<const StandingMap> Node::StandingOf(const std::string& mesh_id,
                                                    BatchView* root_batch) {
  std::optional<v1::MeshRecord> mesh = MeshRecordOf(mesh_id);
  Store* root = RootOf(mesh_id);
  if (!mesh || (root == nullptr && root_batch == nullptr)) {
    return std::make_shared<const StandingMap>();
  }
  uint64_t witness = root != nullptr ? root->last_witness() : 0;
  if (root_batch == nullptr) {
    std::lock_guard lock(standing_mutex_);
    auto it = standing_cache_.find(mesh_id);
    if (it != standing_cache_.end() && it->second.first == witness) return it->second.second;
  }
  std::vector<StandingInput> inputs;
  std::string prefix = keys::Table(keys::kStanding);
  if (root_batch != nullptr) {
    std::vector<std::string> found;
    root_batch->ScanPrefix(prefix, [&](std::string_view k, std::string_view) {
      found.emplace_back(k);
      return true;
    });
    for (const auto& k : found) {
      AddStandingInput(k, root_batch->Get(keys::Intention(k.substr(1 + 8 + 4))), &inputs);
    }
  } else {
    (void)root->db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
      auto stored = root->db().Get(keys::Intention(k.substr(1 + 8 + 4)));
      AddStandingInput(k, stored.ok() ? *stored : std::nullopt, &inputs);
      return true;
    });
  }
  auto standing = std::make_shared<const StandingMap>(
      FoldStanding(std::move(inputs), mesh_id, mesh->creator()));
  if (root_batch == nullptr) {
    std::lock_guard lock(standing_mutex_);
    standing_cache_[mesh_id] = {witness, standing};
  }
  return standing;
}

AuthorRights Node::RightsOf(const std::string& mesh_id, const std::string& store_id,
                            std::string_view author, BatchView* root_batch) {
  std::optional<v1::MeshRecord> mesh = MeshRecordOf(mesh_id);
  if (!mesh) return AuthorRights(false);
  auto standing = StandingOf(mesh_id, root_batch);
  auto it = standing->find(std::string(author));
  if (it == standing->end()) {
    // A status written before its root store indexed status changes still counts.
    bool recorded_active = false;
    if (root_batch == nullptr) {
      if (Store* root = RootOf(mesh_id)) {
        recorded_active = ReadRootValue(*root, StatusKey(author)) == kMemberActive;
      }
    }
    return AuthorRights(recorded_active || author == mesh->creator() ||
                        (!mesh->inviter().empty() && author == mesh->inviter()));
  }
  AuthorRights rights(true);
  if (auto ranges = it->second.void_ranges.find(store_id); ranges != it->second.void_ranges.end()) {
    rights.void_ranges = ranges->second;
  }
  bool open = std::any_of(rights.void_ranges.begin(), rights.void_ranges.end(),
                          [](const SeqRange& r) { return r.IsOpen(); });
  // Revoked without a cut for this store (one its revoker did not know): nothing counts.
  if (it->second.status == kMemberRevoked && !open) {
    rights.void_ranges.push_back(SeqRange{0, SeqRange::kOpen});
  }
  if (it->second.status == kMemberRevoked) {
    MemberInfo member;
    member.node_id = it->first;
    member.revoked_by = it->second.revoked_by;
    member.revoked_at_ms = it->second.revoked_at_ms;
    rights.void_reason = RevocationText(member, mesh_id);
  }
  return rights;
}

}  // namespace lattice::kernel
