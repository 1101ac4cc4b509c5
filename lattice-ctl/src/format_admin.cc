#include "format_admin.h"

#include <fmt/format.h>

#include "output.h"

namespace lattice::ctl {
namespace {

nlohmann::json BytesArray(const google::protobuf::RepeatedPtrField<std::string>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(BytesJson(item));
  return out;
}

std::string ListOrNone(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return items.empty() ? "none" : Joined(items, ", ", true);
}

nlohmann::json BootstrapJson(const v1::BootstrapProgress& bootstrap) {
  return nlohmann::json{{"store_id", bootstrap.store_id()},
                        {"store_name", bootstrap.store_name()},
                        {"source", bootstrap.source()},
                        {"received", bootstrap.received()},
                        {"total", bootstrap.total()},
                        {"done", bootstrap.done()}};
}

std::string TokenState(const v1::TokenInfo& token, uint64_t now_ms) {
  if (token.revoked()) return "revoked";
  if (token.expires_ms() != 0 && token.expires_ms() <= now_ms) return "expired";
  return "active";
}

// The PREFIXES column: an empty prefix, or no scope at all, grants every key.
std::string TokenPrefixesCell(const v1::TokenInfo& token) {
  bool every_key = token.prefixes().empty() && token.keys().empty();
  for (const auto& prefix : token.prefixes()) every_key |= prefix.empty();
  if (every_key) return "(all keys)";
  return token.prefixes().empty() ? "-" : Joined(token.prefixes(), ",", true);
}

}  // namespace

v1::ListTokensResponse ActiveTokens(const v1::ListTokensResponse& response, uint64_t now_ms) {
  v1::ListTokensResponse active;
  for (const auto& token : response.tokens()) {
    if (TokenState(token, now_ms) == "active") *active.add_tokens() = token;
  }
  return active;
}

std::string StatusText(const v1::StatusResponse& status) {
  std::string forked =
      status.forked_authors().empty() ? "none" : std::to_string(status.forked_authors_size());
  std::string out = FormatFields({
      {"node id", status.node().node_id()},
      {"name", status.node().name()},
      {"version", status.node().version()},
      {"root store", status.node().root_store_id()},
      {"data dir", status.data_dir()},
      {"socket", status.socket()},
      {"uptime", FormatDurationMs(status.uptime_ms())},
      {"listen", ListOrNone(status.listen_addresses())},
      {"advertised", ListOrNone(status.advertised_addresses())},
      {"peers", fmt::format("{} connected, {} known", status.peers_connected(),
                            status.peers_known())},
      {"meshes", ListOrNone(status.meshes())},
      {"stores", std::to_string(status.stores_size())},
      {"forked authors", forked},
  });
  for (const auto& author : status.forked_authors()) out += "  " + author + "\n";
  for (const auto& revocation : status.revocations()) {
    out += "REVOKED: " + EscapeForLine(revocation) + "\n";
  }
  for (const auto& bootstrap : status.bootstraps()) {
    if (!bootstrap.done()) out += BootstrapLine(bootstrap) + "\n";
  }
  return out;
}

std::string BootstrapLine(const v1::BootstrapProgress& bootstrap) {
  std::string store = bootstrap.store_name().empty() ? bootstrap.store_id()
                                                     : EscapeForLine(bootstrap.store_name());
  std::string total = bootstrap.total() == 0 ? "?" : std::to_string(bootstrap.total());
  return fmt::format("bootstrap {} from {}: {}/{}", store, AbbreviateId(bootstrap.source()),
                     bootstrap.received(), total);
}

nlohmann::json StatusJson(const v1::StatusResponse& status) {
  nlohmann::json stores = nlohmann::json::array();
  for (const auto& store : status.stores()) stores.push_back(StoreInfoJson(store));
  nlohmann::json bootstraps = nlohmann::json::array();
  for (const auto& bootstrap : status.bootstraps()) bootstraps.push_back(BootstrapJson(bootstrap));
  return nlohmann::json{
      {"node",
       {{"id", status.node().node_id()},
        {"name", status.node().name()},
        {"root_store_id", status.node().root_store_id()},
        {"version", status.node().version()}}},
      {"uptime_ms", status.uptime_ms()},
      {"data_dir", status.data_dir()},
      {"socket", status.socket()},
      {"store_count", status.stores_size()},
      {"stores", std::move(stores)},
      {"forked_authors", StringArray(status.forked_authors())},
      {"listen_addresses", StringArray(status.listen_addresses())},
      {"advertised_addresses", StringArray(status.advertised_addresses())},
      {"peers_connected", status.peers_connected()},
      {"peers_known", status.peers_known()},
      {"meshes", StringArray(status.meshes())},
      {"revocations", StringArray(status.revocations())},
      {"bootstraps", std::move(bootstraps)},
  };
}

nlohmann::json StoreInfoJson(const v1::StoreInfo& store) {
  return nlohmann::json{{"id", store.id()},
                        {"name", store.name()},
                        {"type", store.type()},
                        {"status", store.status()},
                        {"mesh_id", store.mesh_id()},
                        {"intentions", store.intentions()},
                        {"floating", store.floating()}};
}

std::string StoreListText(const v1::ListStoresResponse& response) {
  if (response.stores().empty()) return "(no stores)\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& store : response.stores()) {
    rows.push_back({store.id(), EscapeForLine(store.name()), store.type(), store.status(),
                    std::to_string(store.intentions()), std::to_string(store.floating())});
  }
  return FormatTable({"ID", "NAME", "TYPE", "STATUS", "INTENTIONS", "FLOATING"}, rows);
}

nlohmann::json StoreListJson(const v1::ListStoresResponse& response) {
  nlohmann::json stores = nlohmann::json::array();
  for (const auto& store : response.stores()) stores.push_back(StoreInfoJson(store));
  return nlohmann::json{{"stores", std::move(stores)}};
}

nlohmann::json TokenInfoJson(const v1::TokenInfo& token) {
  return nlohmann::json{{"id", token.id()},
                        {"name", token.name()},
                        {"stores", StringArray(token.stores())},
                        {"prefixes", BytesArray(token.prefixes())},
                        {"keys", BytesArray(token.keys())},
                        {"rights", StringArray(token.rights())},
                        {"created_ms", token.created_ms()},
                        {"expires_ms", token.expires_ms()},
                        {"revoked", token.revoked()},
                        {"revoked_ms", token.revoked_ms()}};
}

std::string TokenListText(const v1::ListTokensResponse& response, uint64_t now_ms) {
  if (response.tokens().empty()) return "(no tokens)\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& token : response.tokens()) {
    std::string keys = token.keys().empty() ? "-" : Joined(token.keys(), ",", true);
    std::string expires =
        token.expires_ms() == 0 ? "never" : FormatTimeMs(token.expires_ms());
    // A metrics token names no store; "-" keeps the columns whole.
    std::string stores = token.stores().empty() ? "-" : Joined(token.stores(), ",", false);
    rows.push_back({token.id(), EscapeForLine(token.name()), Joined(token.rights(), ",", false),
                    stores, TokenPrefixesCell(token), keys, expires, TokenState(token, now_ms)});
  }
  return FormatTable(
      {"ID", "NAME", "RIGHTS", "STORES", "PREFIXES", "KEYS", "EXPIRES", "STATE"}, rows);
}

nlohmann::json TokenListJson(const v1::ListTokensResponse& response) {
  nlohmann::json tokens = nlohmann::json::array();
  for (const auto& token : response.tokens()) tokens.push_back(TokenInfoJson(token));
  return nlohmann::json{{"tokens", std::move(tokens)}};
}

std::string CreatedTokenText(const v1::CreateTokenResponse& response) {
  return fmt::format("id: {}\ntoken: {}\n", response.info().id(), response.token());
}

nlohmann::json CreatedTokenJson(const v1::CreateTokenResponse& response) {
  nlohmann::json out = TokenInfoJson(response.info());
  out["token"] = response.token();
  return out;
}

std::string VerifyText(const std::string& store, const v1::VerifyResponse& response) {
  std::string out = FormatFields({
      {"store", EscapeForLine(store)},
      {"ok", response.ok() ? "yes" : "NO"},
      {"intentions", std::to_string(response.intentions())},
      {"no-ops", std::to_string(response.noops())},
      {"state hash", response.state_hash()},
      {"replayed hash", response.replayed_hash()},
  });
  if (!response.problems().empty()) {
    out += "problems:\n";
    for (const auto& problem : response.problems()) out += "  - " + problem + "\n";
  }
  return out;
}

nlohmann::json VerifyJson(const std::string& store, const v1::VerifyResponse& response) {
  return nlohmann::json{{"store", store},
                        {"ok", response.ok()},
                        {"intentions", response.intentions()},
                        {"noops", response.noops()},
                        {"state_hash", response.state_hash()},
                        {"replayed_hash", response.replayed_hash()},
                        {"problems", StringArray(response.problems())}};
}

std::string IngestOutcomeLine(const v1::IngestOutcome& outcome) {
  if (outcome.reason().empty()) return fmt::format("{} {}", outcome.hash(), outcome.result());
  return fmt::format("{} {} ({})", outcome.hash(), outcome.result(),
                     EscapeForLine(outcome.reason()));
}

nlohmann::json IngestOutcomeJson(const v1::IngestOutcome& outcome) {
  return nlohmann::json{
      {"hash", outcome.hash()}, {"result", outcome.result()}, {"reason", outcome.reason()}};
}

std::string ForksText(const v1::ForksResponse& response) {
  if (response.authors().empty()) return "(no forked authors)\n";
  std::string out;
  for (const auto& author : response.authors()) out += author + "\n";
  out += fmt::format("({} fork proof{})\n", response.proofs_size(),
                     response.proofs_size() == 1 ? "" : "s");
  return out;
}

nlohmann::json ForksJson(const v1::ForksResponse& response) {
  return nlohmann::json{{"authors", StringArray(response.authors())},
                        {"proofs", response.proofs_size()}};
}

}  // namespace lattice::ctl
