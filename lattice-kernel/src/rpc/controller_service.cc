#include <fmt/format.h>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "rpc/services.h"

namespace lattice::kernel {

void FillStoreInfo(Node& node, const StoreDescriptor& d, v1::StoreInfo* out) {
  out->set_id(FormatStoreId(d.id));
  out->set_name(d.name);
  out->set_type(std::string(StoreTypeName(d.type)));
  out->set_status(d.status);
  out->set_mesh_id(FormatStoreId(d.mesh_id));
  if (Store* store = node.StoreById(d.id)) {
    out->set_intentions(store->last_witness());
    out->set_floating(store->floating_count());
  }
}

void FillReceipt(const WriteReceipt& receipt, v1::WriteResult* out) {
  out->mutable_hash()->assign(ToHex(receipt.hash));
  out->set_cursor(receipt.witness);
  out->mutable_hlc()->set_wall_ms(receipt.hlc.wall_ms);
  out->mutable_hlc()->set_counter(receipt.hlc.counter);
}

Store::WriteCallback FinishWithReceipt(grpc::ServerUnaryReactor* reactor, v1::WriteResult* out) {
  // What the receipt fills is made now, on the thread that made the call's arena: the store's
  // thread that finishes the call then allocates nothing in it (a protobuf arena first touched
  // from another thread starts a block of its own for that thread, a malloc for every call).
  out->mutable_hash()->reserve(2 * kHashBytes);
  out->mutable_hlc();
  return [reactor, out](absl::StatusOr<WriteReceipt> receipt) {
    if (!receipt.ok()) {
      reactor->Finish(ToGrpc(receipt.status()));
      return;
    }
    FillReceipt(*receipt, out);
    reactor->Finish(grpc::Status::OK);
  };
}

Durability DurabilityOf(v1::Durability durability) {
  return durability == v1::DURABILITY_APPLIED ? Durability::kApplied : Durability::kSynced;
}

grpc::Status ControllerService::Connect(grpc::ServerContext* context,
                                        const v1::ConnectRequest* request,
                                        v1::ConnectResponse* response) {
  auto caller = ctx_.auth.Authenticate(*context, request->auth_token());
  if (!caller.ok()) return ToGrpc(caller.status());
  response->set_session_id(ToHex(RandomBytes(16)));
  response->set_admin(caller->admin);
  auto* node = response->mutable_node();
  node->set_node_id(ctx_.node.node_id_hex());
  node->set_name(ctx_.node.name());
  node->set_root_store_id(FormatStoreId(ctx_.node.own_mesh_id()));
  node->set_version(LATTICE_VERSION);
  return grpc::Status::OK;
}

grpc::Status ControllerService::OpenStore(grpc::ServerContext* context,
                                          const v1::OpenStoreRequest* request,
                                          v1::StoreInfo* response) {
  if (!request->create_as_type().empty()) {
    auto existing = ctx_.node.Resolve(request->store());
    if (!existing.ok() && absl::IsNotFound(existing.status())) {
      auto caller = ctx_.auth.Authenticate(*context);
      if (!caller.ok()) return ToGrpc(caller.status());
      if (auto s = RequireAdmin(*caller); !s.ok()) return ToGrpc(s);
      auto type = ParseStoreType(request->create_as_type());
      if (!type) return ToGrpc(absl::InvalidArgumentError("unknown store type " + request->create_as_type()));
      auto created = ctx_.node.CreateStore(request->store(), *type, ctx_.node.own_mesh_id());
      if (!created.ok()) return ToGrpc(created.status());
      FillStoreInfo(ctx_.node, *created, response);
      return grpc::Status::OK;
    }
  }
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, {request->store(), Right::kRead, std::nullopt, {}, {}});
  if (!access.ok()) return ToGrpc(access.status());
  FillStoreInfo(ctx_.node, access->descriptor, response);
  return grpc::Status::OK;
}

}  // namespace lattice::kernel
