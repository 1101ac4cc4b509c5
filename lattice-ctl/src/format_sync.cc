#include "format_sync.h"

#include <fmt/format.h>

#include "format_admin.h"
#include "output.h"

namespace lattice::ctl {
namespace {

std::string PeersSummary(const v1::StoreStatusResponse& response) {
  if (response.peers().empty()) return "none";
  int connected = 0;
  for (const auto& peer : response.peers()) connected += peer.connected() ? 1 : 0;
  return fmt::format("{} ({} connected)", response.peers_size(), connected);
}

bool AllOk(const v1::SyncStoreResponse& response) {
  for (const auto& result : response.results()) {
    if (!result.ok()) return false;
  }
  return true;
}

}  // namespace

std::string StoreStatusText(const v1::StoreStatusResponse& response, uint64_t now_ms) {
  const v1::StoreInfo& store = response.store();
  std::string name = store.id();
  if (!store.name().empty()) {
    name = store.id().empty() ? EscapeForLine(store.name())
                              : fmt::format("{} ({})", EscapeForLine(store.name()), store.id());
  }
  std::string out = FormatFields({
      {"store", name},
      {"type", store.type()},
      {"witnessed", std::to_string(response.witnessed())},
      {"floating", std::to_string(response.floating())},
      {"forks", std::to_string(response.forks())},
      {"no-ops", std::to_string(response.noops())},
      {"sync items", std::to_string(response.sync_items())},
      {"fingerprint", response.fingerprint()},
      {"state hash", response.state_hash()},
      {"peers", PeersSummary(response)},
  });
  if (response.peers().empty()) return out;
  std::vector<std::vector<std::string>> rows;
  for (const auto& peer : response.peers()) {
    rows.push_back({AbbreviateId(peer.node_id()),
                    peer.name().empty() ? "-" : EscapeForLine(peer.name()),
                    peer.connected() ? "yes" : "no", FormatAgoMs(peer.last_sync_ms(), now_ms),
                    std::to_string(peer.lag()),
                    peer.last_error().empty() ? "-" : EscapeForLine(peer.last_error())});
  }
  return out + "\n" +
         FormatTable({"NODE", "NAME", "CONNECTED", "LAST SYNC", "LAG", "LAST ERROR"}, rows);
}

nlohmann::json StoreStatusJson(const v1::StoreStatusResponse& response) {
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& peer : response.peers()) {
    peers.push_back({{"node_id", peer.node_id()},
                     {"name", peer.name()},
                     {"connected", peer.connected()},
                     {"last_sync_ms", peer.last_sync_ms()},
                     {"lag", peer.lag()},
                     {"last_error", peer.last_error()}});
  }
  return nlohmann::json{{"store", StoreInfoJson(response.store())},
                        {"witnessed", response.witnessed()},
                        {"floating", response.floating()},
                        {"forks", response.forks()},
                        {"noops", response.noops()},
                        {"sync_items", response.sync_items()},
                        {"fingerprint", response.fingerprint()},
                        {"state_hash", response.state_hash()},
                        {"peers", std::move(peers)}};
}

std::string SyncResultsText(const std::string& store, const v1::SyncStoreResponse& response) {
  // The kernel answers without results only when no other node shares the store.
  if (response.results().empty()) {
    return fmt::format("store {}: nothing to reconcile: no other node shares it\n",
                       EscapeForLine(store));
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& result : response.results()) {
    rows.push_back({AbbreviateId(result.node_id()), result.ok() ? "ok" : "FAILED",
                    std::to_string(result.fetched()), std::to_string(result.sent()),
                    std::to_string(result.rounds()), std::to_string(result.bytes()),
                    result.error().empty() ? "-" : EscapeForLine(result.error())});
  }
  return FormatTable({"PEER", "RESULT", "FETCHED", "SENT", "ROUNDS", "BYTES", "ERROR"}, rows);
}

nlohmann::json SyncResultsJson(const std::string& store, const v1::SyncStoreResponse& response) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& result : response.results()) {
    results.push_back({{"node_id", result.node_id()},
                       {"ok", result.ok()},
                       {"error", result.error()},
                       {"fetched", result.fetched()},
                       {"sent", result.sent()},
                       {"rounds", result.rounds()},
                       {"bytes", result.bytes()}});
  }
  return nlohmann::json{{"store", store},
                        {"ok", AllOk(response)},
                        {"nothing_to_reconcile", response.results().empty()},
                        {"results", std::move(results)}};
}

std::string FloatingLine(const v1::FloatingIntentionInfo& intention) {
  std::string waiting;
  if (intention.held()) waiting = "held";
  if (!intention.missing().empty()) {
    if (!waiting.empty()) waiting += ", ";
    waiting += "missing " + Joined(intention.missing(), ",", false);
  }
  if (waiting.empty()) waiting = "waiting";
  return fmt::format("{} {} seq {} {}", intention.hash(), AbbreviateId(intention.author()),
                     intention.seq(), waiting);
}

std::string FloatingText(const v1::FloatingResponse& response) {
  if (response.intentions().empty()) return "(no floating intentions)\n";
  std::string out;
  for (const auto& intention : response.intentions()) out += FloatingLine(intention) + "\n";
  return out;
}

nlohmann::json FloatingJson(const v1::FloatingResponse& response) {
  nlohmann::json intentions = nlohmann::json::array();
  for (const auto& intention : response.intentions()) {
    intentions.push_back({{"hash", intention.hash()},
                          {"author", intention.author()},
                          {"seq", intention.seq()},
                          {"wall_ms", intention.wall_ms()},
                          {"held", intention.held()},
                          {"missing", StringArray(intention.missing())}});
  }
  return nlohmann::json{{"intentions", std::move(intentions)}};
}

}  // namespace lattice::ctl
