// The Store Protocol calls the benchmarks make, as load-generator operations: puts (durable,
// or acknowledged once applied), 64-row batches and gets, each client with its own lattice::client::Client (its own
// channel and connection). The same code drives the kernel and the gRPC floor.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lattice/client.h"
#include "load_generator.h"
#include "server_process.h"

namespace lattice::bench {

// `name` padded with 'k' to `bytes` (unchanged when already as long).
std::string PaddedKey(std::string name, size_t bytes);

// The key of the n-th key written by PrefillGetKeys.
std::string GetKey(uint64_t n, size_t key_bytes);

struct ClientLoadShape {
  std::string store;        // id or name, as every call sends it
  std::string value;        // written by every put and batch row
  size_t key_bytes = 24;
  size_t batch_rows = 64;
  uint64_t get_keys = 0;    // Gets read GetKey(n) for n uniform in [0, get_keys)
};

// Immutable; RunLoad calls may run one after another on the same object.
class ClientLoads {
 public:
  ClientLoads(const ServerProcess* server, ClientLoadShape shape)
      : server_(server), shape_(std::move(shape)) {}

  // Kv.Put of fresh keys "<prefix>/<client>/<n>", acknowledged as `durability` asks.
  absl::StatusOr<LoadResult> Puts(LoadOptions load, const std::string& prefix,
                                  v1::Durability durability = v1::DURABILITY_SYNCED) const;
  // Kv.Batch of `batch_rows` fresh keys per call; result.ops counts calls.
  absl::StatusOr<LoadResult> Batches(LoadOptions load, const std::string& prefix) const;
  // Kv.Get of prefilled keys; a key not found counts as a failed call.
  absl::StatusOr<LoadResult> Gets(LoadOptions load) const;

 private:
  absl::StatusOr<std::shared_ptr<client::Client>> ConnectShared() const;

  const ServerProcess* server_;
  ClientLoadShape shape_;
};

// Writes GetKey(n) for n in [0, shape.get_keys) with shape.value, in batches of 1000.
absl::Status PrefillGetKeys(client::Client& client, const ClientLoadShape& shape);

}  // namespace lattice::bench
