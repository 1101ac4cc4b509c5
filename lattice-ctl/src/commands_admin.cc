// Node administration commands: status, metrics, store * (sync included), token *.
#include <fmt/format.h>

#include "commands.h"
#include "format_admin.h"
#include "format_metrics.h"
#include "format_sync.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {

absl::Status RunStatus(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::StatusResponse status, client->NodeStatus());
  if (session.json()) return session.printer().Json(StatusJson(status));
  return session.printer().Write(StatusText(status));
}

absl::Status RunMetrics(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::MetricsResponse metrics, client->Metrics());
  if (session.json()) return session.printer().Json(MetricsJson(metrics));
  return session.printer().Write(MetricsText(metrics));
}

absl::Status RunStoreCreate(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::StoreInfo store, client->CreateStore(args.name, args.type));
  if (session.json()) return session.printer().Json(StoreInfoJson(store));
  return session.printer().Line(store.id());
}

absl::Status RunStoreList(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListStoresResponse stores,
                           client->ListStores(session.args().all));
  if (session.json()) return session.printer().Json(StoreListJson(stores));
  return session.printer().Write(StoreListText(stores));
}

absl::Status RunStoreArchive(Session& session, bool archive) {
  const std::string& name = session.args().store;
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::StoreInfo store, archive ? client->ArchiveStore(name)
                                                        : client->UnarchiveStore(name));
  if (session.json()) return session.printer().Json(StoreInfoJson(store));
  return absl::OkStatus();
}

absl::Status RunStoreStatus(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::StoreStatusResponse status,
                           client->StoreStatus(session.args().store));
  if (session.json()) return session.printer().Json(StoreStatusJson(status));
  return session.printer().Write(StoreStatusText(status, NowMs()));
}

absl::Status SyncVerdict(const std::string& store, const v1::SyncStoreResponse& response) {
  const v1::PeerSyncResult* first_failed = nullptr;
  int failed = 0;
  for (const auto& result : response.results()) {
    if (result.ok()) continue;
    if (first_failed == nullptr) first_failed = &result;
    ++failed;
  }
  if (first_failed == nullptr) return absl::OkStatus();
  std::string why = first_failed->error().empty() ? "" : ": " + first_failed->error();
  std::string more = failed == 1 ? ""
                                 : fmt::format(" (and {} more peer{} failed)", failed - 1,
                                               failed == 2 ? "" : "s");
  return absl::UnavailableError(fmt::format("store {}: sync with peer {} failed{}{}", store,
                                            AbbreviateId(first_failed->node_id()), why, more));
}

absl::Status RunStoreSync(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(v1::SyncStoreRequest request, BuildSyncStoreRequest(args));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::SyncStoreResponse response, client->SyncStore(request));
  LATTICE_RETURN_IF_ERROR(session.json()
                              ? session.printer().Json(SyncResultsJson(args.store, response))
                              : session.printer().Write(SyncResultsText(args.store, response)));
  return SyncVerdict(args.store, response);
}

absl::Status RunTokenCreate(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::CreateTokenRequest request,
                           BuildCreateTokenRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::CreateTokenResponse created, client->CreateToken(request));
  if (session.json()) return session.printer().Json(CreatedTokenJson(created));
  LATTICE_RETURN_IF_ERROR(session.printer().Write(CreatedTokenText(created)));
  LATTICE_RETURN_IF_ERROR(session.printer().Flush());
  session.printer().Warn("warning: the token is shown only this once; keep it somewhere safe");
  return absl::OkStatus();
}

absl::Status RunTokenList(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListTokensResponse tokens, client->ListTokens());
  uint64_t now_ms = NowMs();
  if (!session.args().all) tokens = ActiveTokens(tokens, now_ms);
  if (session.json()) return session.printer().Json(TokenListJson(tokens));
  return session.printer().Write(TokenListText(tokens, now_ms));
}

absl::Status RunTokenRevoke(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::TokenInfo token, client->RevokeToken(session.args().id));
  if (session.json()) return session.printer().Json(TokenInfoJson(token));
  return absl::OkStatus();
}

}  // namespace lattice::ctl
