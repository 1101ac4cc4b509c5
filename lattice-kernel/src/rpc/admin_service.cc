#include <fmt/format.h>

#include <filesystem>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "replication/replicator.h"
#include "rpc/services.h"

namespace lattice::kernel {
namespace {

void FillTokenInfo(const v1::TokenRecord& record, v1::TokenInfo* out) {
  out->set_id(record.id());
  out->set_name(record.name());
  for (const auto& s : record.stores()) out->add_stores(s);
  for (const auto& p : record.prefixes()) out->add_prefixes(p);
  for (const auto& k : record.keys()) out->add_keys(k);
  for (const auto& r : record.rights()) out->add_rights(r);
  out->set_created_ms(record.created_ms());
  out->set_expires_ms(record.expires_ms());
  out->set_revoked(record.revoked());
  out->set_revoked_ms(record.revoked_ms());
}

}  // namespace

grpc::Status AdminService::Status(grpc::ServerContext* context, const v1::StatusRequest*,
                                  v1::StatusResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto* node = response->mutable_node();
  node->set_node_id(ctx_.node.node_id_hex());
  node->set_name(ctx_.node.name());
  node->set_root_store_id(FormatStoreId(ctx_.node.own_mesh_id()));
  node->set_version(LATTICE_VERSION);
  response->set_uptime_ms(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now() - ctx_.started)
                                                    .count()));
  for (const auto& d : ctx_.node.ListStores(true)) FillStoreInfo(ctx_.node, d, response->add_stores());
  response->set_data_dir(ctx_.node.data_dir());
  response->set_socket(ctx_.socket_path);
  for (auto& author : ctx_.node.ForkedAuthors()) response->add_forked_authors(author);
  for (const auto& mesh : ctx_.node.Meshes()) {
    response->add_meshes(mesh.root_store_id());
    std::string mesh_id = *ParseStoreId(mesh.root_store_id());
    auto self = ctx_.node.Member(mesh_id, ctx_.node.identity().public_key);
    if (self && !self->revoked_by.empty()) {
      response->add_revocations(RevocationText(*self, mesh_id));
    }
  }
  if (ctx_.replicator == nullptr) return grpc::Status::OK;
  if (auto address = ctx_.replicator->listen_address(); !address.empty()) {
    response->add_listen_addresses(address);
  }
  for (const auto& address : ctx_.replicator->advertised()) response->add_advertised_addresses(address);
  response->set_peers_connected(static_cast<uint32_t>(ctx_.replicator->connected_count()));
  std::set<std::string> known;
  for (const auto& view : ctx_.replicator->Peers("")) {
    if (!view.self && view.member.status == "active") known.insert(view.member.node_id);
  }
  response->set_peers_known(static_cast<uint32_t>(known.size()));
  for (const auto& record : ctx_.replicator->Bootstraps()) {
    auto* out = response->add_bootstraps();
    out->set_store_id(FormatStoreId(record.store_id()));
    auto d = ctx_.node.Resolve(FormatStoreId(record.store_id()));
    if (d.ok()) out->set_store_name(d->name);
    out->set_source(ToHex(record.source()));
    out->set_received(record.received());
    out->set_total(record.total());
    out->set_done(record.done());
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::CreateStore(grpc::ServerContext* context,
                                       const v1::CreateStoreRequest* request,
                                       v1::StoreInfo* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto type = ParseStoreType(request->type());
  if (!type || *type == StoreType::kRoot) {
    return ToGrpc(absl::InvalidArgumentError(
        fmt::format("store type {} is not one of kv, chat, fs", Quote(request->type()))));
  }
  auto mesh = ResolveMesh(request->mesh());
  if (!mesh.ok()) return ToGrpc(mesh.status());
  auto created = ctx_.node.CreateStore(request->name(), *type, *mesh);
  if (!created.ok()) return ToGrpc(created.status());
  FillStoreInfo(ctx_.node, *created, response);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListStores(grpc::ServerContext* context,
                                      const v1::ListStoresRequest* request,
                                      v1::ListStoresResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  for (const auto& d : ctx_.node.ListStores(request->include_archived())) {
    FillStoreInfo(ctx_.node, d, response->add_stores());
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::SetStatus(grpc::ServerContext* context, const v1::StoreRef* request,
                                     v1::StoreInfo* response, const char* status) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto d = ctx_.node.SetStoreStatus(request->store(), status);
  if (!d.ok()) return ToGrpc(d.status());
  FillStoreInfo(ctx_.node, *d, response);
  return grpc::Status::OK;
}

grpc::Status AdminService::ArchiveStore(grpc::ServerContext* context, const v1::StoreRef* request,
                                        v1::StoreInfo* response) {
  return SetStatus(context, request, response, "archived");
}

grpc::Status AdminService::UnarchiveStore(grpc::ServerContext* context,
                                          const v1::StoreRef* request, v1::StoreInfo* response) {
  return SetStatus(context, request, response, "active");
}

grpc::Status AdminService::CreateToken(grpc::ServerContext* context,
                                       const v1::CreateTokenRequest* request,
                                       v1::CreateTokenResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  std::vector<std::string> stores;
  for (const auto& name : request->stores()) {
    auto d = ctx_.node.Resolve(name);
    if (!d.ok()) return ToGrpc(d.status());
    // Whoever writes a root store admits and revokes nodes and declares the services every
    // member may run: handing that out must be meant.
    if (d->type == StoreType::kRoot && !request->allow_root_store()) {
      return ToGrpc(absl::PermissionDeniedError(fmt::format(
          "store {} is the root store of mesh {}, its control plane: a token for it could admit "
          "or revoke nodes and declare services. Set allow_root_store (lattice-ctl token create "
          "--allow-root-store) if that is meant",
          Quote(name), FormatStoreId(d->mesh_id))));
    }
    stores.push_back(FormatStoreId(d->id));
  }
  uint64_t now_ms = ctx_.node.clock().WallMs();
  auto token = ctx_.node.tokens().Create(
      request->name(), std::move(stores), {request->prefixes().begin(), request->prefixes().end()},
      {request->rights().begin(), request->rights().end()}, request->ttl_seconds(), now_ms,
      /*service_instance=*/"", {request->keys().begin(), request->keys().end()});
  if (!token.ok()) return ToGrpc(token.status());
  FillTokenInfo(token->record, response->mutable_info());
  response->set_token(token->secret);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListTokens(grpc::ServerContext* context, const v1::ListTokensRequest*,
                                      v1::ListTokensResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (auto s = ctx_.node.tokens().CollectEnded(ctx_.node.clock().WallMs()); !s.ok()) {
    return ToGrpc(s);
  }
  auto tokens = ctx_.node.tokens().List();
  if (!tokens.ok()) return ToGrpc(tokens.status());
  for (const auto& record : *tokens) FillTokenInfo(record, response->add_tokens());
  return grpc::Status::OK;
}

grpc::Status AdminService::RevokeToken(grpc::ServerContext* context,
                                       const v1::RevokeTokenRequest* request,
                                       v1::TokenInfo* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto record = ctx_.node.tokens().Revoke(request->id(), ctx_.node.clock().WallMs());
  if (!record.ok()) return ToGrpc(record.status());
  FillTokenInfo(*record, response);
  return grpc::Status::OK;
}

grpc::Status AdminService::VerifyStore(grpc::ServerContext* context, const v1::StoreRef* request,
                                       v1::VerifyResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto d = ctx_.node.Resolve(request->store());
  if (!d.ok()) return ToGrpc(d.status());
  Store* store = ctx_.node.StoreById(d->id);
  if (store == nullptr) return ToGrpc(absl::UnavailableError("store is not open"));
  std::string scratch = fmt::format("{}/tmp/verify-{}", ctx_.node.data_dir(), FormatStoreId(d->id));
  VerifyReport report = store->Verify(scratch);
  response->set_ok(report.ok);
  response->set_intentions(report.intentions);
  response->set_noops(report.noops);
  response->set_state_hash(report.state_hash);
  response->set_replayed_hash(report.replayed_hash);
  for (auto& problem : report.problems) response->add_problems(std::move(problem));
  return grpc::Status::OK;
}

grpc::Status AdminService::Ingest(grpc::ServerContext* context, const v1::IngestRequest* request,
                                  v1::IngestResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (static_cast<size_t>(request->intentions_size()) > limits::kMaxIngestPerCall) {
    return ToGrpc(LimitExceeded("ingest", request->intentions_size(), limits::kMaxIngestPerCall,
                                "intentions"));
  }
  auto d = ctx_.node.Resolve(request->store());
  if (!d.ok()) return ToGrpc(d.status());
  Store* store = ctx_.node.StoreById(d->id);
  if (store == nullptr) return ToGrpc(absl::UnavailableError("store is not open"));
  std::vector<v1::SignedIntention> intentions(request->intentions().begin(), request->intentions().end());
  for (const auto& outcome : store->Ingest(intentions)) {
    auto* out = response->add_outcomes();
    out->set_hash(ToHex(outcome.hash));
    out->set_result(std::string(IngestKindName(outcome.kind)));
    out->set_reason(outcome.reason);
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::Forks(grpc::ServerContext* context, const v1::StoreRef* request,
                                 v1::ForksResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto d = ctx_.node.Resolve(request->store());
  if (!d.ok()) return ToGrpc(d.status());
  Store* store = ctx_.node.StoreById(d->id);
  if (store == nullptr) return ToGrpc(absl::UnavailableError("store is not open"));
  auto proofs = store->ForkProofs();
  if (!proofs.ok()) return ToGrpc(proofs.status());
  std::set<std::string> authors;
  for (auto& proof : *proofs) {
    v1::Intention body;
    if (body.ParseFromString(proof.first().body())) authors.insert(ToHex(body.author()));
    *response->add_proofs() = std::move(proof);
  }
  for (const auto& author : authors) response->add_authors(author);
  return grpc::Status::OK;
}

}  // namespace lattice::kernel
