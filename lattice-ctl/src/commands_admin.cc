// Node administration commands: status, store *, token *.
#include <chrono>

#include <fmt/format.h>

#include "commands.h"
#include "format_admin.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {
namespace {

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

absl::Status RunStatus(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::StatusResponse status, client->NodeStatus());
  if (session.json()) return session.printer().Json(StatusJson(status));
  return session.printer().Write(StatusText(status));
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
  if (session.json()) return session.printer().Json(TokenListJson(tokens));
  return session.printer().Write(TokenListText(tokens, NowMs()));
}

absl::Status RunTokenRevoke(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::TokenInfo token, client->RevokeToken(session.args().id));
  if (session.json()) return session.printer().Json(TokenInfoJson(token));
  return absl::OkStatus();
}

}  // namespace lattice::ctl
