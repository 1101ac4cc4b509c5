#include "requests.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "errors.h"
#include "lattice/common/duration.h"
#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"

namespace lattice::ctl {
namespace {

constexpr std::string_view kPut = "put:";
constexpr std::string_view kDel = "del:";
const std::vector<std::string> kKnownRights = {"read", "write", "watch", "metrics"};

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::string TrimmedLine(const std::string& line) {
  size_t begin = line.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  size_t end = line.find_last_not_of(" \t\r");
  return line.substr(begin, end - begin + 1);
}

absl::Status CheckNode(const std::string& node) {
  if (node.empty()) return UsageError("NODE is empty (give a node id, a prefix of it, or a name)");
  return absl::OkStatus();
}

// A peer's name: `what` names it in errors; an empty name is refused when `required`.
absl::Status CheckNodeName(const std::string& what, const std::string& name, bool required) {
  if (name.empty()) {
    return required ? UsageError(what + " is empty") : absl::OkStatus();
  }
  if (name.size() > limits::kMaxNodeNameBytes) {
    return UsageError(fmt::format("{} is {} bytes, above the limit of {}", what, name.size(),
                                  limits::kMaxNodeNameBytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::BatchOp> ParseBatchOp(const std::string& text) {
  v1::BatchOp op;
  if (StartsWith(text, kPut)) {
    std::string rest = text.substr(kPut.size());
    size_t equals = rest.find('=');
    if (equals == std::string::npos) {
      return UsageError(fmt::format("batch op \"{}\" needs a value: put:KEY=VALUE", text));
    }
    if (equals == 0) return UsageError(fmt::format("batch op \"{}\" has an empty key", text));
    op.set_key(rest.substr(0, equals));
    op.set_value(rest.substr(equals + 1));
    return op;
  }
  if (StartsWith(text, kDel)) {
    std::string key = text.substr(kDel.size());
    if (key.empty()) return UsageError(fmt::format("batch op \"{}\" has an empty key", text));
    op.set_key(key);
    op.set_delete_(true);
    return op;
  }
  return UsageError(
      fmt::format("batch op \"{}\" must be put:KEY=VALUE or del:KEY", text));
}

absl::StatusOr<v1::BatchRequest> BuildBatchRequest(const std::string& store,
                                                   const std::vector<std::string>& ops) {
  if (ops.empty()) return UsageError("kv batch needs at least one OP");
  v1::BatchRequest request;
  request.set_store(store);
  for (const auto& text : ops) {
    auto op = ParseBatchOp(text);
    if (!op.ok()) return op.status();
    *request.add_ops() = std::move(*op);
  }
  return request;
}

absl::StatusOr<std::vector<std::string>> ParseRights(const std::string& text) {
  std::vector<std::string> rights;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string right = TrimmedLine(text.substr(start, comma - start));
    start = comma + 1;
    if (right.empty()) continue;
    if (std::find(kKnownRights.begin(), kKnownRights.end(), right) == kKnownRights.end()) {
      return UsageError(
          fmt::format("unknown right \"{}\" (use read, write, watch and metrics, comma-separated)",
                      right));
    }
    if (std::find(rights.begin(), rights.end(), right) == rights.end()) rights.push_back(right);
  }
  if (rights.empty()) return UsageError("--rights needs at least one of read, write, watch, metrics");
  return rights;
}

absl::StatusOr<v1::CreateTokenRequest> BuildCreateTokenRequest(const Arguments& args) {
  v1::CreateTokenRequest request;
  if (args.name.empty()) return UsageError("the token needs a NAME");
  request.set_name(args.name);
  auto rights = ParseRights(args.rights);
  if (!rights.ok()) return rights.status();
  // The metrics right is the node's; every other right is used on a store.
  bool only_metrics = *rights == std::vector<std::string>{"metrics"};
  if (args.stores.empty() && !only_metrics) {
    return UsageError("the token needs at least one --store (only --rights metrics needs none)");
  }
  for (const auto& store : args.stores) request.add_stores(store);
  for (const auto& prefix : args.prefixes) request.add_prefixes(prefix);
  for (const auto& key : args.keys) request.add_keys(key);
  request.set_allow_root_store(args.allow_root_store);
  for (const auto& right : *rights) request.add_rights(right);
  if (!args.ttl.empty()) {
    LATTICE_ASSIGN_OR_RETURN(uint64_t seconds, ParseTtlOption(args.ttl));
    request.set_ttl_seconds(seconds);
  }
  return request;
}

absl::StatusOr<uint64_t> ParseDurationOption(const std::string& flag, const std::string& text) {
  auto seconds = ParseDurationSeconds(text);
  if (!seconds.ok()) return UsageError(flag + ": " + std::string(seconds.status().message()));
  if (*seconds == 0) return UsageError(flag + " must be longer than zero");
  return *seconds;
}

absl::StatusOr<uint64_t> ParseTtlOption(const std::string& text) {
  LATTICE_ASSIGN_OR_RETURN(uint64_t seconds, ParseDurationOption("--ttl", text));
  if (seconds > limits::kMaxTtlSeconds) {
    return UsageError(fmt::format("--ttl {} is longer than the maximum of {}s (100 years)", text,
                                  limits::kMaxTtlSeconds));
  }
  return seconds;
}

absl::StatusOr<uint64_t> ParseTimeoutMs(const std::string& text) {
  if (text.empty()) return 0;
  LATTICE_ASSIGN_OR_RETURN(uint64_t seconds, ParseDurationOption("--timeout", text));
  if (seconds > kMaxTimeoutSeconds) {
    return UsageError(fmt::format("--timeout {} is longer than the maximum of {}h", text,
                                  kMaxTimeoutSeconds / 3600));
  }
  return seconds * 1000;
}

absl::StatusOr<v1::InvitePeerRequest> BuildInvitePeerRequest(const Arguments& args) {
  v1::InvitePeerRequest request;
  request.set_mesh(args.mesh);
  request.set_readmit(args.node);
  if (!args.ttl.empty()) {
    LATTICE_ASSIGN_OR_RETURN(uint64_t seconds, ParseTtlOption(args.ttl));
    request.set_ttl_seconds(seconds);
  }
  return request;
}

absl::StatusOr<v1::JoinMeshRequest> BuildJoinMeshRequest(const Arguments& args) {
  // Tokens hold no blanks; a pasted one may be wrapped or padded.
  std::string token = args.invite;
  token.erase(std::remove_if(token.begin(), token.end(),
                             [](unsigned char c) { return std::isspace(c) != 0; }),
              token.end());
  if (token.empty()) return UsageError("TOKEN is empty (it is what peer invite printed)");
  LATTICE_RETURN_IF_ERROR(CheckNodeName("--name", args.name, /*required=*/false));
  LATTICE_ASSIGN_OR_RETURN(uint64_t timeout_ms, ParseTimeoutMs(args.timeout));
  v1::JoinMeshRequest request;
  request.set_token(token);
  request.set_name(args.name);
  request.set_timeout_ms(timeout_ms);
  return request;
}

absl::StatusOr<v1::PeerRef> BuildRevokePeerRequest(const Arguments& args) {
  LATTICE_RETURN_IF_ERROR(CheckNode(args.node));
  v1::PeerRef request;
  request.set_node(args.node);
  request.set_mesh(args.mesh);
  return request;
}

absl::StatusOr<v1::RenamePeerRequest> BuildRenamePeerRequest(const Arguments& args) {
  LATTICE_RETURN_IF_ERROR(CheckNode(args.node));
  LATTICE_RETURN_IF_ERROR(CheckNodeName("NAME", args.name, /*required=*/true));
  v1::RenamePeerRequest request;
  request.set_node(args.node);
  request.set_name(args.name);
  request.set_mesh(args.mesh);
  return request;
}

namespace {

// "KEY=VALUE": the first '=' ends the key, which may not be empty; VALUE may be.
absl::StatusOr<std::pair<std::string, std::string>> SplitAssignment(const std::string& text,
                                                                    const std::string& what) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return UsageError(fmt::format("{} \"{}\" must be KEY=VALUE", what, text));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

}  // namespace

absl::StatusOr<v1::DeclareServiceRequest> BuildDeclareServiceRequest(const Arguments& args) {
  if (args.local == !args.policy.empty()) {
    return UsageError("service declare needs exactly one of --policy Global|TaggedNodes:TAG and --local");
  }
  v1::DeclareServiceRequest request;
  request.set_service_id(args.service);
  request.set_store(args.store);
  request.set_policy(args.policy);
  request.set_local(args.local);
  for (const auto& text : args.sets) {
    LATTICE_ASSIGN_OR_RETURN(auto kv, SplitAssignment(text, "--set"));
    auto* setting = request.add_settings();
    setting->set_name(kv.first);
    setting->set_value(kv.second);
  }
  return request;
}

absl::StatusOr<v1::SetServiceOverrideRequest> BuildSetServiceOverrideRequest(const Arguments& args) {
  if (args.assignment.empty() == args.clear.empty()) {
    return UsageError("service override needs exactly one of KEY=VALUE and --clear KEY");
  }
  v1::SetServiceOverrideRequest request;
  request.set_service_id(args.service);
  request.set_store(args.store);
  if (!args.clear.empty()) {
    request.set_key(args.clear);
    request.set_clear(true);
    return request;
  }
  LATTICE_ASSIGN_OR_RETURN(auto kv, SplitAssignment(args.assignment, "the override"));
  request.set_key(kv.first);
  request.set_value(kv.second);
  return request;
}

absl::StatusOr<v1::SyncStoreRequest> BuildSyncStoreRequest(const Arguments& args) {
  if (!args.wait) {
    return UsageError(
        "store sync needs --wait: it always waits for the result (there is no sync that "
        "returns at once)");
  }
  LATTICE_ASSIGN_OR_RETURN(uint64_t timeout_ms, ParseTimeoutMs(args.timeout));
  v1::SyncStoreRequest request;
  request.set_store(args.store);
  request.set_peer(args.node);
  request.set_timeout_ms(timeout_ms);
  return request;
}

v1::ScanRequest BuildScanRequest(const Arguments& args) {
  v1::ScanRequest request;
  request.set_store(args.store);
  request.set_prefix(args.prefix);
  request.set_limit(args.limit);
  return request;
}

v1::KvWatchRequest BuildKvWatchRequest(const Arguments& args) {
  v1::KvWatchRequest request;
  request.set_store(args.store);
  request.set_prefix(args.prefix);
  if (args.from.has_value()) {
    request.set_from_cursor(*args.from);
  } else {
    request.set_from_now(true);
  }
  return request;
}

v1::ChatWatchRequest BuildChatWatchRequest(const Arguments& args) {
  v1::ChatWatchRequest request;
  request.set_store(args.store);
  request.set_channel(args.channel);
  if (args.from.has_value()) {
    request.set_from_cursor(*args.from);
  } else {
    request.set_from_now(true);
  }
  return request;
}

absl::StatusOr<v1::HistoryRequest> BuildHistoryRequest(const Arguments& args) {
  if (args.limit > limits::kMaxHistoryLimit) {
    return UsageError(fmt::format("--limit {} is above the maximum of {}", args.limit,
                                  limits::kMaxHistoryLimit));
  }
  v1::HistoryRequest request;
  request.set_store(args.store);
  request.set_channel(args.channel);
  request.set_limit(static_cast<uint32_t>(args.limit));
  request.set_before(args.before);
  return request;
}

absl::StatusOr<std::vector<v1::SignedIntention>> ParseIngestText(const std::string& text,
                                                                 const std::string& source) {
  std::vector<v1::SignedIntention> intentions;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = TrimmedLine(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    auto bytes = FromHex(line);
    if (!bytes.has_value()) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: not a hex-encoded SignedIntention", source, line_number));
    }
    v1::SignedIntention intention;
    if (!intention.ParseFromString(*bytes)) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: the bytes do not parse as a SignedIntention", source, line_number));
    }
    intentions.push_back(std::move(intention));
  }
  return intentions;
}

std::vector<v1::IngestRequest> BuildIngestRequests(
    const std::string& store, const std::vector<v1::SignedIntention>& intentions) {
  std::vector<v1::IngestRequest> requests;
  for (size_t i = 0; i < intentions.size(); ++i) {
    if (i % limits::kMaxIngestPerCall == 0) {
      requests.emplace_back();
      requests.back().set_store(store);
    }
    *requests.back().add_intentions() = intentions[i];
  }
  return requests;
}

}  // namespace lattice::ctl
