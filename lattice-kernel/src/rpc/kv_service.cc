#include <fmt/format.h>

#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "state/kv_state.h"
#include "storage/keys.h"
#include "rpc/services.h"
#include "rpc/watch_loop.h"

namespace lattice::kernel {
namespace {

AccessRequest KvAccess(const std::string& store, Right right, KeyScope::Kind kind,
                       std::string_view key) {
  AccessRequest request{store, right, StoreType::kKv, {kind, key}, {}};
  return request;
}

// Starts the write and returns its reactor; the store finishes the call once the write is
// durable, on the thread that committed it. `out` is the call's response, which lives until
// the call is finished.
grpc::ServerUnaryReactor* Write(ServiceContext& ctx, grpc::CallbackServerContext* context,
                                const AccessRequest& access_request, std::vector<KvWrite> ops,
                                v1::WriteResult* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto access = OpenForCall(*context, ctx.node, ctx.auth, access_request);
  if (!access.ok()) {
    reactor->Finish(ToGrpc(access.status()));
    return reactor;
  }
  access->store->WriteKvAsync(std::move(ops), FinishWithReceipt(reactor, out));
  return reactor;
}

// Answers a call whose work is done at once, on the receiving thread.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* KvService::Get(grpc::CallbackServerContext* context,
                                         const v1::GetRequest* request,
                                         v1::GetResponse* response) {
  return FinishNow(context, DoGet(context, request, response));
}

grpc::ServerUnaryReactor* KvService::Inspect(grpc::CallbackServerContext* context,
                                             const v1::InspectRequest* request,
                                             v1::InspectResponse* response) {
  return FinishNow(context, DoInspect(context, request, response));
}

grpc::Status KvService::DoGet(grpc::CallbackServerContext* context, const v1::GetRequest* request,
                              v1::GetResponse* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            KvAccess(request->store(), Right::kRead, KeyScope::Kind::kKey, request->key()));
  if (!access.ok()) return ToGrpc(access.status());
  auto heads = ReadHeads(access->store->db(), request->key());
  if (!heads.ok()) return ToGrpc(heads.status());
  KvRead read = ResolveHeads(*heads);
  response->set_found(read.found);
  response->set_conflicted(read.conflicted);
  if (read.found) {
    response->set_value(read.winner.value());
    *response->mutable_hlc() = read.winner.hlc();
    response->set_author(ToHex(read.winner.author()));
  }
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* context,
                                         const v1::PutRequest* request,
                                         v1::WriteResult* response) {
  return Write(ctx_, context,
               KvAccess(request->store(), Right::kWrite, KeyScope::Kind::kKey, request->key()),
               {{request->key(), request->value(), false}}, response);
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* context,
                                            const v1::DeleteRequest* request,
                                            v1::WriteResult* response) {
  return Write(ctx_, context,
               KvAccess(request->store(), Right::kWrite, KeyScope::Kind::kKey, request->key()),
               {{request->key(), "", true}}, response);
}

grpc::ServerUnaryReactor* KvService::Batch(grpc::CallbackServerContext* context,
                                           const v1::BatchRequest* request,
                                           v1::WriteResult* response) {
  if (request->ops_size() == 0) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpc(absl::InvalidArgumentError("a batch needs at least one operation")));
    return reactor;
  }
  AccessRequest access_request = KvAccess(request->store(), Right::kWrite, KeyScope::Kind::kKey,
                                          request->ops(0).key());
  std::vector<KvWrite> ops;
  ops.reserve(request->ops_size());
  for (const auto& op : request->ops()) {
    access_request.more_keys.push_back(op.key());
    ops.push_back({op.key(), op.delete_() ? std::string() : op.value(), op.delete_()});
  }
  return Write(ctx_, context, access_request, std::move(ops), response);
}

grpc::Status KvService::Scan(grpc::ServerContext* context, const v1::ScanRequest* request,
                             grpc::ServerWriter<v1::ScanPage>* writer) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            KvAccess(request->store(), Right::kRead, KeyScope::Kind::kPrefix, request->prefix()));
  if (!access.ok()) return ToGrpc(access.status());
  size_t page_size = request->page_size() == 0 ? 256 : request->page_size();
  page_size = std::min(page_size, limits::kMaxScanPageEntries);
  std::string heads_prefix = KvHeadsPrefix();
  std::string start = heads_prefix + std::max(request->start(), request->prefix());
  std::string end = request->end().empty() ? keys::PrefixEnd(heads_prefix + request->prefix())
                                           : heads_prefix + request->end();
  uint64_t sent = 0;
  v1::ScanPage page;
  bool client_gone = false;
  absl::Status s = access->store->db().Scan(start, end, [&](std::string_view k, std::string_view v) {
    v1::KvHeads heads;
    heads.ParseFromArray(v.data(), static_cast<int>(v.size()));
    KvRead read = ResolveHeads(heads);
    if (!read.found) return true;
    auto* entry = page.add_entries();
    entry->set_key(std::string(k.substr(heads_prefix.size())));
    entry->set_value(read.winner.value());
    entry->set_conflicted(read.conflicted);
    ++sent;
    if (static_cast<size_t>(page.entries_size()) >= page_size) {
      if (!writer->Write(page)) {
        client_gone = true;
        return false;
      }
      page.Clear();
    }
    return request->limit() == 0 || sent < request->limit();
  });
  if (!s.ok()) return ToGrpc(s);
  if (!client_gone && page.entries_size() > 0) writer->Write(page);
  return grpc::Status::OK;
}

grpc::Status KvService::Watch(grpc::ServerContext* context, const v1::KvWatchRequest* request,
                              grpc::ServerWriter<v1::KvWatchResponse>* writer) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            KvAccess(request->store(), Right::kWatch, KeyScope::Kind::kPrefix, request->prefix()));
  if (!access.ok()) return ToGrpc(access.status());
  const std::string& prefix = request->prefix();
  uint64_t cursor = request->from_now() ? access->store->last_witness() : request->from_cursor();
  return RunWatchLoop<v1::KvWatchResponse>(
      context, ctx_.stopping, *access->store, cursor, writer,
      [&](v1::KvWatchResponse& response, uint64_t witness, const DecodedIntention& intention, bool noop) {
        if (noop || intention.body.op_type() != kOpKv) return;
        auto payload = ParseKvPayload(intention.body.payload());
        if (!payload.ok()) return;
        for (const auto& op : payload->ops()) {
          if (op.key().compare(0, prefix.size(), prefix) != 0) continue;
          auto* event = response.add_events();
          event->set_cursor(witness);
          event->set_key(op.key());
          event->set_value(op.value());
          event->set_deleted(op.tombstone());
          event->set_author(ToHex(intention.body.author()));
          *event->mutable_hlc() = intention.body.hlc();
          event->set_hash(ToHex(intention.hash));
        }
      });
}

grpc::Status KvService::DoInspect(grpc::CallbackServerContext* context,
                                  const v1::InspectRequest* request,
                                  v1::InspectResponse* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            KvAccess(request->store(), Right::kRead, KeyScope::Kind::kKey, request->key()));
  if (!access.ok()) return ToGrpc(access.status());
  auto heads = ReadHeads(access->store->db(), request->key());
  if (!heads.ok()) return ToGrpc(heads.status());
  for (const auto& head : heads->heads()) {
    auto* out = response->add_heads();
    out->set_hash(ToHex(head.hash()));
    *out->mutable_hlc() = head.hlc();
    out->set_author(ToHex(head.author()));
    out->set_value(head.value());
    out->set_deleted(head.tombstone());
  }
  response->set_conflicted(heads->heads_size() > 1);
  return grpc::Status::OK;
}

}  // namespace lattice::kernel
