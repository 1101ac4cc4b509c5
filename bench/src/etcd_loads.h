// The kernel benchmark's loads against etcd's KV API, shaped like ClientLoads' against the
// kernel so the figures compare one to one: a put of a fresh key, a transaction of
// `batch_rows` puts of fresh keys (etcd's atomic batch, as Kv.Batch is the kernel's), and a
// serializable range read of one prefilled key. Each client has its own gRPC channel and
// connection and calls synchronously, as lattice::client::Client does.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "client_loads.h"
#include "load_generator.h"

namespace lattice::bench {

// Immutable; RunLoad calls may run one after another on the same object.
class EtcdLoads {
 public:
  // `socket`: where etcd serves (StartEtcd); `shape.store` is unused.
  EtcdLoads(std::string socket, ClientLoadShape shape)
      : socket_(std::move(socket)), shape_(std::move(shape)) {}

  // KV.Put of fresh keys "<prefix>/<client>/<n>".
  absl::StatusOr<LoadResult> Puts(LoadOptions load, const std::string& prefix) const;
  // KV.Txn of `batch_rows` puts of fresh keys per call; result.ops counts calls.
  absl::StatusOr<LoadResult> Batches(LoadOptions load, const std::string& prefix) const;
  // KV.Range (serializable) of one prefilled key; a key not found counts as a failed call.
  absl::StatusOr<LoadResult> Gets(LoadOptions load) const;

  // Writes GetKey(n) for n in [0, shape.get_keys) with shape.value, in transactions of 64.
  absl::Status PrefillGetKeys() const;

 private:
  std::string socket_;
  ClientLoadShape shape_;
};

}  // namespace lattice::bench
