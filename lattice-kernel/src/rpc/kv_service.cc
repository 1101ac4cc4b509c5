#include <fmt/format.h>

#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "state/kv_state.h"
#include "storage/keys.h"
#include "rpc/services.h"
#include "rpc/stream_reactor.h"
#include "rpc/watch_stream.h"

namespace lattice::kernel {
namespace {

AccessRequest KvAccess(const std::string& store, Right right, KeyScope::Kind kind,
                       std::string_view key) {
  AccessRequest request{store, right, StoreType::kKv, {kind, key}, {}};
  return request;
}

// Starts the write and returns its reactor; the store finishes the call once the write is
// durable (or applied, as `durability` asks), on the thread that committed it. `out` is the
// call's response, which lives until the call is finished.
grpc::ServerUnaryReactor* Write(ServiceContext& ctx, grpc::CallbackServerContext* context,
                                const AccessRequest& access_request, std::vector<KvWrite> ops,
                                v1::Durability durability, v1::WriteResult* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto access = OpenForCall(*context, ctx.node, ctx.auth, access_request);
  if (!access.ok()) {
    reactor->Finish(ToGrpc(access.status()));
    return reactor;
  }
  access->store->WriteKvAsync(std::move(ops), FinishWithReceipt(reactor, out),
                              DurabilityOf(durability));
  return reactor;
}

// The raw hashes a compare-and-set names, from their hex form.
absl::StatusOr<std::vector<std::string>> ExpectedHeads(const v1::HeadsCondition& condition) {
  if (static_cast<size_t>(condition.expected_heads_size()) > limits::kMaxDeps) {
    return absl::InvalidArgumentError(fmt::format("at most {} expected heads", limits::kMaxDeps));
  }
  std::vector<std::string> heads;
  for (const auto& hex : condition.expected_heads()) {
    auto hash = FromHex(hex);
    if (!hash || hash->size() != 32) {
      return absl::InvalidArgumentError(fmt::format(
          "an expected head must be a 64-digit hex hash; \"{}\" is not",
          hex.substr(0, 80)));
    }
    heads.push_back(*std::move(hash));
  }
  return heads;
}

// Answers a call whose work is done at once, on the receiving thread.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Kv.Scan, a page at a time: at most page_size entries and about limits::kMaxStreamPageBytes
// each. A token limited to prefixes scans only within the one that covers the request's
// prefix, whatever `end` says.
class ScanStream final : public StreamReactor<v1::ScanPage> {
 public:
  ScanStream(ServiceContext& ctx, grpc::CallbackServerContext* context, const v1::ScanRequest* request)
      : StreamReactor(ctx, context), request_(*request) {}

 protected:
  AccessRequest Access() const override {
    return KvAccess(request_.store(), Right::kRead, KeyScope::Kind::kPrefix, request_.prefix());
  }

  absl::Status Start(const StoreAccess& access) override {
    page_size_ = request_.page_size() == 0 ? 256 : request_.page_size();
    page_size_ = std::min(page_size_, limits::kMaxScanPageEntries);
    const std::string& prefix = request_.prefix();
    next_ = heads_prefix_ + std::max(request_.start(), prefix);
    end_ = request_.end().empty() ? keys::PrefixEnd(heads_prefix_ + prefix)
                                  : heads_prefix_ + request_.end();
    if (!access.caller.admin && access.caller.token.prefixes_size() > 0) {
      // OpenForCall saw a token prefix cover `prefix`; the shortest such allows the most.
      const std::string* widest = nullptr;
      for (const auto& p : access.caller.token.prefixes()) {
        if (prefix.compare(0, p.size(), p) != 0) continue;
        if (widest == nullptr || p.size() < widest->size()) widest = &p;
      }
      std::string permitted_end = widest == nullptr ? heads_prefix_ + prefix
                                                    : keys::PrefixEnd(heads_prefix_ + *widest);
      end_ = std::min(end_, permitted_end);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Step> Next(v1::ScanPage& out, bool) override {
    if (done_) return Step::kDone;
    size_t bytes = 0;
    bool stopped = false;
    absl::Status s = store().db().Scan(next_, end_, [&](std::string_view k, std::string_view v) {
      if (static_cast<size_t>(out.entries_size()) >= page_size_ ||
          bytes >= limits::kMaxStreamPageBytes) {
        next_.assign(k);  // the next page starts here
        stopped = true;
        return false;
      }
      v1::KvHeads heads;
      heads.ParseFromArray(v.data(), static_cast<int>(v.size()));
      KvRead read = ResolveHeads(heads);
      if (!read.found) return true;
      auto* entry = out.add_entries();
      entry->set_key(std::string(k.substr(heads_prefix_.size())));
      entry->set_value(read.winner.value());
      entry->set_conflicted(read.conflicted);
      bytes += entry->ByteSizeLong();
      ++sent_;
      if (request_.limit() != 0 && sent_ >= request_.limit()) {
        stopped = false;
        return false;
      }
      return true;
    });
    if (!s.ok()) return s;
    done_ = !stopped;
    return out.entries_size() > 0 ? Step::kWrite : Step::kDone;
  }

  // A scan ends by itself: let it finish within the shutdown's grace.
  std::string StoppingMessage() const override { return {}; }

 private:
  const v1::ScanRequest& request_;
  const std::string heads_prefix_ = KvHeadsPrefix();
  size_t page_size_ = 0;
  std::string next_;  // the first key of the next page
  std::string end_;
  uint64_t sent_ = 0;
  bool done_ = false;
};

class KvWatchStream final : public WatchStream<v1::KvWatchResponse> {
 public:
  KvWatchStream(ServiceContext& ctx, grpc::CallbackServerContext* context,
                const v1::KvWatchRequest* request)
      : WatchStream(ctx, context, request->from_now(), request->from_cursor()),
        request_(*request) {}

 protected:
  AccessRequest Access() const override {
    return KvAccess(request_.store(), Right::kWatch, KeyScope::Kind::kPrefix, request_.prefix());
  }

  size_t Collect(v1::KvWatchResponse& out, uint64_t witness, const DecodedIntention& intention,
                 bool noop) override {
    if (noop || intention.body.op_type() != kOpKv) return 0;
    auto payload = ParseKvPayload(intention.body.payload());
    if (!payload.ok()) return 0;
    const std::string& prefix = request_.prefix();
    size_t bytes = 0;
    for (const auto& op : payload->ops()) {
      if (op.key().compare(0, prefix.size(), prefix) != 0) continue;
      auto* event = out.add_events();
      event->set_cursor(witness);
      event->set_key(op.key());
      event->set_value(op.value());
      event->set_deleted(op.tombstone());
      event->set_author(ToHex(intention.body.author()));
      *event->mutable_hlc() = intention.body.hlc();
      event->set_hash(ToHex(intention.hash));
      bytes += event->ByteSizeLong();
    }
    return bytes;
  }

  int EventCount(const v1::KvWatchResponse& out) const override { return out.events_size(); }

 private:
  const v1::KvWatchRequest& request_;
};

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
  for (const auto& head : heads->heads()) response->add_heads(ToHex(head.hash()));
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* context,
                                         const v1::PutRequest* request,
                                         v1::WriteResult* response) {
  KvWrite write(request->key(), request->value());
  if (request->has_if_heads()) {
    auto expected = ExpectedHeads(request->if_heads());
    if (!expected.ok()) return FinishNow(context, ToGrpc(expected.status()));
    write.expected_heads = *std::move(expected);
  }
  return Write(ctx_, context,
               KvAccess(request->store(), Right::kWrite, KeyScope::Kind::kKey, request->key()),
               {std::move(write)}, request->durability(), response);
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* context,
                                            const v1::DeleteRequest* request,
                                            v1::WriteResult* response) {
  KvWrite write(request->key(), "", true);
  if (request->has_if_heads()) {
    auto expected = ExpectedHeads(request->if_heads());
    if (!expected.ok()) return FinishNow(context, ToGrpc(expected.status()));
    write.expected_heads = *std::move(expected);
  }
  return Write(ctx_, context,
               KvAccess(request->store(), Right::kWrite, KeyScope::Kind::kKey, request->key()),
               {std::move(write)}, request->durability(), response);
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
  return Write(ctx_, context, access_request, std::move(ops), request->durability(), response);
}

grpc::ServerWriteReactor<v1::ScanPage>* KvService::Scan(grpc::CallbackServerContext* context,
                                                       const v1::ScanRequest* request) {
  return StreamReactor<v1::ScanPage>::Open<ScanStream>(ctx_, context, request);
}

grpc::ServerWriteReactor<v1::KvWatchResponse>* KvService::Watch(
    grpc::CallbackServerContext* context, const v1::KvWatchRequest* request) {
  return StreamReactor<v1::KvWatchResponse>::Open<KvWatchStream>(ctx_, context, request);
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

// The sync barrier: answered once every write the store applied before the call is durable,
// by the thread that committed the sync (Store::SyncAsync). Needs the right to write, since
// it costs an fsync.
grpc::ServerUnaryReactor* KvService::Sync(grpc::CallbackServerContext* context,
                                          const v1::KvSyncRequest* request,
                                          v1::KvSyncResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            KvAccess(request->store(), Right::kWrite, KeyScope::Kind::kNone, {}));
  if (!access.ok()) {
    reactor->Finish(ToGrpc(access.status()));
    return reactor;
  }
  access->store->SyncAsync([reactor, response](absl::StatusOr<uint64_t> cursor) {
    if (!cursor.ok()) {
      reactor->Finish(ToGrpc(cursor.status()));
      return;
    }
    response->set_cursor(*cursor);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace lattice::kernel
