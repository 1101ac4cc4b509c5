#include "client_loads.h"

#include <fmt/format.h>

#include "lattice/common/status.h"

namespace lattice::bench {

std::string PaddedKey(std::string name, size_t bytes) {
  if (name.size() < bytes) name.append(bytes - name.size(), 'k');
  return name;
}

std::string GetKey(uint64_t n, size_t key_bytes) {
  return PaddedKey(fmt::format("get/{:010}", n), key_bytes);
}

absl::StatusOr<std::shared_ptr<client::Client>> ClientLoads::ConnectShared() const {
  LATTICE_ASSIGN_OR_RETURN(auto c, server_->Connect());
  return std::shared_ptr<client::Client>(std::move(c));
}

absl::StatusOr<LoadResult> ClientLoads::Puts(LoadOptions load, const std::string& prefix,
                                             v1::Durability durability) const {
  return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    LATTICE_ASSIGN_OR_RETURN(std::shared_ptr<client::Client> c, ConnectShared());
    auto seq = std::make_shared<uint64_t>(0);
    std::string key_prefix = fmt::format("{}/{:03}/", prefix, index);
    return Operation([c, seq, key_prefix, durability, this]() -> absl::Status {
      std::string key = PaddedKey(fmt::format("{}{:010}", key_prefix, (*seq)++), shape_.key_bytes);
      return c->Put(shape_.store, key, shape_.value, durability).status();
    });
  });
}

absl::StatusOr<LoadResult> ClientLoads::Batches(LoadOptions load, const std::string& prefix) const {
  return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    LATTICE_ASSIGN_OR_RETURN(std::shared_ptr<client::Client> c, ConnectShared());
    auto request = std::make_shared<v1::BatchRequest>();
    request->set_store(shape_.store);
    for (size_t r = 0; r < shape_.batch_rows; ++r) request->add_ops()->set_value(shape_.value);
    auto seq = std::make_shared<uint64_t>(0);
    std::string key_prefix = fmt::format("{}/{:03}/", prefix, index);
    return Operation([c, seq, request, key_prefix, this]() -> absl::Status {
      for (auto& op : *request->mutable_ops()) {
        op.set_key(PaddedKey(fmt::format("{}{:010}", key_prefix, (*seq)++), shape_.key_bytes));
      }
      return c->Batch(*request).status();
    });
  });
}

absl::StatusOr<LoadResult> ClientLoads::Gets(LoadOptions load) const {
  return RunLoad(load, [&](int index) -> absl::StatusOr<Operation> {
    LATTICE_ASSIGN_OR_RETURN(std::shared_ptr<client::Client> c, ConnectShared());
    auto state = std::make_shared<uint64_t>(0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1));
    uint64_t keys = std::max<uint64_t>(shape_.get_keys, 1);
    return Operation([c, state, keys, this]() -> absl::Status {
      uint64_t& x = *state;  // xorshift64: cheap, and every client reads its own sequence
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      auto reply = c->Get(shape_.store, GetKey(x % keys, shape_.key_bytes));
      if (!reply.ok()) return reply.status();
      if (!reply->found()) return absl::NotFoundError("a prefilled key was not found");
      return absl::OkStatus();
    });
  });
}

absl::Status PrefillGetKeys(client::Client& client, const ClientLoadShape& shape) {
  constexpr uint64_t kPerBatch = 1000;
  for (uint64_t first = 0; first < shape.get_keys; first += kPerBatch) {
    v1::BatchRequest request;
    request.set_store(shape.store);
    for (uint64_t n = first; n < std::min(shape.get_keys, first + kPerBatch); ++n) {
      auto* op = request.add_ops();
      op->set_key(GetKey(n, shape.key_bytes));
      op->set_value(shape.value);
    }
    LATTICE_RETURN_IF_ERROR(client.Batch(request).status());
  }
  return absl::OkStatus();
}

}  // namespace lattice::bench
