// The gRPC floor: the Store Protocol's Controller.Connect and Kv Get/Put/Batch with the
// kernel's request and response shapes, answered at once with constant replies of the
// kernel's sizes. Served on a Unix socket like the kernel, it is the ceiling of any
// one-call-per-operation API on this machine; kernel figures are judged as fractions of it.
#pragma once

#include <grpcpp/grpcpp.h>
#include <leveldb/env.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::bench {

// The floors' constant replies, of the kernel's sizes: a 64-hex-digit hash, author and
// cursor for a write, the benchmark's value for a read, both stamped now. Built once and only
// copied afterwards.
struct FloorReplies {
  explicit FloorReplies(size_t value_bytes);
  v1::GetResponse get;
  v1::WriteResult write;
};

// Thread-safe: the replies are built once and only copied afterwards.
class FloorController final : public v1::Controller::Service {
 public:
  FloorController();
  grpc::Status Connect(grpc::ServerContext* context, const v1::ConnectRequest* request,
                       v1::ConnectResponse* response) override;
  grpc::Status OpenStore(grpc::ServerContext* context, const v1::OpenStoreRequest* request,
                         v1::StoreInfo* response) override;

 private:
  v1::ConnectResponse connect_;
};

// Thread-safe, as FloorController.
class FloorKv final : public v1::Kv::Service {
 public:
  // Get answers a value of `value_bytes`, like the kernel holding the benchmark's values.
  // With a `sync_file`, Put and Batch first write the request to it and sync it, one call
  // at a time, the way the kernel writes its log: the ceiling of any durable write through
  // this API.
  explicit FloorKv(size_t value_bytes, std::unique_ptr<leveldb::WritableFile> sync_file = nullptr);
  ~FloorKv() override;
  grpc::Status Get(grpc::ServerContext* context, const v1::GetRequest* request,
                   v1::GetResponse* response) override;
  grpc::Status Put(grpc::ServerContext* context, const v1::PutRequest* request,
                   v1::WriteResult* response) override;
  grpc::Status Batch(grpc::ServerContext* context, const v1::BatchRequest* request,
                     v1::WriteResult* response) override;

 private:
  grpc::Status AppendDurably(const google::protobuf::MessageLite& request);

  const FloorReplies replies_;
  std::unique_ptr<leveldb::WritableFile> sync_file_;
  std::mutex sync_mutex_;
};

// The floor's services bound to `socket_path`, with the kernel's server settings.
class FloorServer {
 public:
  // `sync_path` non-empty: writes are made durable in that file, by the gRPC handler
  // (FloorKv) or, with `hand_off`, by a writer thread of its own (HandedOffFloorKv).
  static absl::StatusOr<std::unique_ptr<FloorServer>> Start(const std::string& socket_path,
                                                            size_t value_bytes,
                                                            const std::string& sync_path = "",
                                                            bool hand_off = false);
  ~FloorServer();
  void Shutdown();

 private:
  FloorServer() = default;

  std::unique_ptr<FloorController> controller_;
  std::unique_ptr<grpc::Service> kv_;
  std::unique_ptr<grpc::Server> server_;
  std::string socket_path_;
};

}  // namespace lattice::bench
