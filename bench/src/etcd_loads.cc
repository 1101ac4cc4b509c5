#include "etcd_loads.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "etcd/etcd_kv.grpc.pb.h"
#include "etcd_server.h"
#include "lattice/common/status.h"

namespace lattice::bench {
namespace {

// As long as the kernel clients' default deadline (ServerProcess::Connect).
constexpr auto kCallDeadline = std::chrono::seconds(60);

absl::Status FromGrpc(const grpc::Status& status, std::string_view call) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      fmt::format("etcd {}: {}", call, status.error_message()));
}

// One client's stub over a channel of its own.
std::shared_ptr<etcdserverpb::KV::Stub> NewStub(const std::string& socket) {
  return std::shared_ptr<etcdserverpb::KV::Stub>(etcdserverpb::KV::NewStub(EtcdChannel(socket)));
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

}  // namespace

absl::StatusOr<LoadResult> EtcdLoads::Puts(LoadOptions load, const std::string& prefix) const {
  return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    auto stub = NewStub(socket_);
    auto seq = std::make_shared<uint64_t>(0);
    std::string key_prefix = fmt::format("{}/{:03}/", prefix, index);
    return Operation([stub, seq, key_prefix, this]() -> absl::Status {
      etcdserverpb::PutRequest request;
      request.set_key(PaddedKey(fmt::format("{}{:010}", key_prefix, (*seq)++), shape_.key_bytes));
      request.set_value(shape_.value);
      etcdserverpb::PutResponse response;
      grpc::ClientContext context;
      SetDeadline(&context);
      return FromGrpc(stub->Put(&context, request, &response), "put");
    });
  });
}

absl::StatusOr<LoadResult> EtcdLoads::Batches(LoadOptions load, const std::string& prefix) const {
  return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    auto stub = NewStub(socket_);
    auto request = std::make_shared<etcdserverpb::TxnRequest>();
    for (size_t r = 0; r < shape_.batch_rows; ++r) {
      request->add_success()->mutable_request_put()->set_value(shape_.value);
    }
    auto seq = std::make_shared<uint64_t>(0);
    std::string key_prefix = fmt::format("{}/{:03}/", prefix, index);
    return Operation([stub, seq, request, key_prefix, this]() -> absl::Status {
      for (auto& op : *request->mutable_success()) {
        op.mutable_request_put()->set_key(
            PaddedKey(fmt::format("{}{:010}", key_prefix, (*seq)++), shape_.key_bytes));
      }
      etcdserverpb::TxnResponse response;
      grpc::ClientContext context;
      SetDeadline(&context);
      LATTICE_RETURN_IF_ERROR(FromGrpc(stub->Txn(&context, *request, &response), "txn"));
      if (!response.succeeded()) return absl::AbortedError("etcd txn: did not succeed");
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<LoadResult> EtcdLoads::Gets(LoadOptions load) const {
  return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    auto stub = NewStub(socket_);
    auto state = std::make_shared<uint64_t>(0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1));
    uint64_t keys = std::max<uint64_t>(shape_.get_keys, 1);
    return Operation([stub, state, keys, this]() -> absl::Status {
      uint64_t& x = *state;  // xorshift64, as ClientLoads::Gets
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      etcdserverpb::RangeRequest request;
      request.set_key(GetKey(x % keys, shape_.key_bytes));
      request.set_serializable(true);
      etcdserverpb::RangeResponse response;
      grpc::ClientContext context;
      SetDeadline(&context);
      LATTICE_RETURN_IF_ERROR(FromGrpc(stub->Range(&context, request, &response), "range"));
      if (response.kvs_size() != 1) return absl::NotFoundError("a prefilled key was not found");
      return absl::OkStatus();
    });
  });
}

absl::Status EtcdLoads::PrefillGetKeys() const {
  constexpr uint64_t kPerTxn = 64;  // within etcd's default --max-txn-ops (128)
  auto stub = NewStub(socket_);
  for (uint64_t first = 0; first < shape_.get_keys; first += kPerTxn) {
    etcdserverpb::TxnRequest request;
    for (uint64_t n = first; n < std::min(shape_.get_keys, first + kPerTxn); ++n) {
      auto* put = request.add_success()->mutable_request_put();
      put->set_key(GetKey(n, shape_.key_bytes));
      put->set_value(shape_.value);
    }
    etcdserverpb::TxnResponse response;
    grpc::ClientContext context;
    SetDeadline(&context);
    LATTICE_RETURN_IF_ERROR(FromGrpc(stub->Txn(&context, request, &response), "prefill txn"));
  }
  return absl::OkStatus();
}

}  // namespace lattice::bench
