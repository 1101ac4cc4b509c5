#include "state/root_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <tuple>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "state/kv_state.h"

namespace lattice::kernel {
namespace {

constexpr std::string_view kNodesPrefix = "/nodes/";
constexpr std::string_view kCutPrefix = "cut/";
constexpr std::string_view kVoidPrefix = "void";
// Fields of a key echoed in a refusal are cut to this many bytes.
constexpr size_t kQuotedFieldBytes = 48;

// A key under /nodes/: the node it names (raw) and the field after its id.
struct NodeKey {
  std::string node;
  std::string_view field;
};

std::string Quote(std::string_view text) {
  if (text.size() <= kQuotedFieldBytes) return std::string(text);
  return std::string(text.substr(0, kQuotedFieldBytes)) + "…";
}

// nullopt when `key` is not under /nodes/; an empty node when it is but names no node in
// canonical form (lowercase hex, as every reader spells it).
std::optional<NodeKey> ParseNodeKey(std::string_view key) {
  if (key.substr(0, kNodesPrefix.size()) != kNodesPrefix) return std::nullopt;
  std::string_view rest = key.substr(kNodesPrefix.size());
  size_t slash = rest.find('/');
  NodeKey parsed;
  if (slash == std::string_view::npos) return parsed;
  auto node = ParseNodeId(rest.substr(0, slash));
  if (!node || ToHex(*node) != rest.substr(0, slash)) return parsed;
  parsed.node = *node;
  parsed.field = rest.substr(slash + 1);
  return parsed;
}

std::optional<uint64_t> ParseSeq(std::string_view text) {
  uint64_t seq = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return seq;
}

SeqRange* OpenRange(std::vector<SeqRange>& ranges) {
  for (auto& r : ranges) {
    if (r.IsOpen()) return &r;
  }
  return nullptr;
}

}  // namespace

std::string FormatCut(uint64_t seq) { return std::to_string(seq); }

absl::Status CheckRootWrite(std::string_view author, const v1::KvPayload& payload) {
  std::set<std::string> status_written;
  for (const auto& op : payload.ops()) {
    auto key = ParseNodeKey(op.key());
    if (key && key->field == "status") status_written.insert(key->node);
  }
  for (const auto& op : payload.ops()) {
    auto key = ParseNodeKey(op.key());
    if (!key) continue;  // /stores/ and /services/: any member
    if (key->node.empty()) {
      return absl::PermissionDeniedError(fmt::format(
          "root store key \"{}\" is under /nodes/ but names no node id in lowercase hex",
          Quote(op.key())));
    }
    std::string node = ShortHex(key->node);
    if (key->field == "status") {
      if (op.tombstone() || (op.value() != kMemberActive && op.value() != kMemberRevoked)) {
        return absl::InvalidArgumentError(fmt::format(
            "the status of node {} is \"active\" or \"revoked\", not \"{}\"", node,
            Quote(op.value())));
      }
    } else if (key->field.substr(0, kCutPrefix.size()) == kCutPrefix) {
      if (!ParseStoreId(key->field.substr(kCutPrefix.size())) || op.tombstone() ||
          !ParseSeq(op.value())) {
        return absl::InvalidArgumentError(fmt::format(
            "cut \"{}\" of node {} must name a store and hold a sequence number",
            Quote(key->field), node));
      }
      if (!status_written.count(key->node)) {
        return absl::PermissionDeniedError(fmt::format(
            "the cut of node {} may be written only with a change of its status", node));
      }
    } else if (key->field.substr(0, kVoidPrefix.size()) == kVoidPrefix) {
      return absl::PermissionDeniedError(fmt::format(
          "the void ranges of node {} are derived by every node from its revocation; nobody "
          "writes them",
          node));
    } else if (author != key->node) {
      return absl::PermissionDeniedError(
          fmt::format("/nodes/{}/{} may be written only by node {} itself, not by {}", node,
                      Quote(key->field), node, ShortHex(author)));
    }
  }
  return absl::OkStatus();
}

std::vector<StandingChange> StandingChangesOf(const DecodedIntention& intention) {
  std::vector<StandingChange> changes;
  if (intention.body.op_type() != kOpKv) return changes;
  auto payload = ParseKvPayload(intention.body.payload());
  if (!payload.ok() || !CheckRootWrite(intention.body.author(), *payload).ok()) return changes;
  std::map<std::string, std::map<std::string, uint64_t>> cuts;
  for (const auto& op : payload->ops()) {
    auto key = ParseNodeKey(op.key());
    if (!key || key->field.substr(0, kCutPrefix.size()) != kCutPrefix) continue;
    cuts[key->node][*ParseStoreId(key->field.substr(kCutPrefix.size()))] = *ParseSeq(op.value());
  }
  for (const auto& op : payload->ops()) {
    auto key = ParseNodeKey(op.key());
    if (!key || key->field != "status") continue;
    StandingChange change;
    change.node = key->node;
    change.cuts = std::move(cuts[key->node]);
    if (op.value() == kMemberRevoked) {
      change.kind = StandingChange::Kind::kRevoke;
    } else {
      change.kind = change.cuts.empty() ? StandingChange::Kind::kAdmit
                                        : StandingChange::Kind::kReadmit;
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

std::map<std::string, MemberStanding> FoldStanding(std::vector<StandingInput> intentions,
                                                   std::string_view mesh_id,
                                                   std::string_view creator) {
  std::sort(intentions.begin(), intentions.end(), [](const StandingInput& a, const StandingInput& b) {
    return std::tie(a.hlc, a.hash) < std::tie(b.hlc, b.hash);
  });
  std::map<std::string, MemberStanding> standing;
  auto in_good_standing = [&](const std::string& author, uint64_t seq) {
    auto it = standing.find(author);
    if (it == standing.end()) return author == creator;
    auto root = it->second.void_ranges.find(std::string(mesh_id));
    if (root == it->second.void_ranges.end()) return it->second.status == kMemberActive;
    return !InAnyRange(root->second, seq);
  };
  for (const auto& intention : intentions) {
    if (!in_good_standing(intention.author, intention.seq)) continue;
    for (const auto& change : intention.changes) {
      auto it = standing.find(change.node);
      bool known = it != standing.end();
      bool revoked = known && it->second.status == kMemberRevoked;
      MemberStanding& member = standing[change.node];
      switch (change.kind) {
        case StandingChange::Kind::kAdmit:
          if (!known) member.status = kMemberActive;
          break;
        case StandingChange::Kind::kRevoke:
          if (revoked) break;
          member.status = kMemberRevoked;
          member.revoked_by = intention.author;
          member.revoked_at_ms = intention.hlc.wall_ms;
          member.revocation_hash = intention.hash;
          for (const auto& [store, cut] : change.cuts) {
            auto& ranges = member.void_ranges[store];
            if (OpenRange(ranges) == nullptr) ranges.push_back(SeqRange{cut, SeqRange::kOpen});
          }
          break;
        case StandingChange::Kind::kReadmit:
          member.status = kMemberActive;
          member.revoked_by.clear();
          member.revoked_at_ms = 0;
          member.revocation_hash.clear();
          for (auto& [store, ranges] : member.void_ranges) {
            SeqRange* open = OpenRange(ranges);
            if (open == nullptr) continue;
            auto cut = change.cuts.find(store);
            open->before = std::max(open->after, cut == change.cuts.end() ? open->after : cut->second) + 1;
          }
          break;
      }
    }
  }
  return standing;
}

}  // namespace lattice::kernel
