// The durable floor as the kernel must be built: the gRPC handler never waits for the disk.
// Put and Batch hand their request to one writer thread, which appends everything queued
// since its last sync, syncs once, and finishes those calls from its own thread, the group
// commit the kernel runs (minus all its work: no signing, no state, no index). Its 1-client
// put is the ceiling of any server that keeps gRPC threads free of fsync, which issue 18
// asks of the kernel; FloorKv's inline sync is the ceiling of one that does not.
#pragma once

#include <grpcpp/grpcpp.h>
#include <leveldb/env.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "floor_service.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::bench {

class HandedOffFloorKv final : public v1::Kv::CallbackService {
 public:
  HandedOffFloorKv(size_t value_bytes, std::unique_ptr<leveldb::WritableFile> sync_file);
  ~HandedOffFloorKv() override;  // finishes what is queued, then stops the writer

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context, const v1::GetRequest*,
                                v1::GetResponse* response) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const v1::PutRequest* request, v1::WriteResult* response) override;
  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext* context,
                                  const v1::BatchRequest* request,
                                  v1::WriteResult* response) override;

 private:
  struct Pending {
    std::string record;
    grpc::ServerUnaryReactor* reactor;
    v1::WriteResult* response;
  };

  grpc::ServerUnaryReactor* HandOff(grpc::CallbackServerContext* context,
                                    const google::protobuf::MessageLite& request,
                                    v1::WriteResult* response);
  void WriterLoop();

  const FloorReplies replies_;
  std::unique_ptr<leveldb::WritableFile> sync_file_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::thread writer_;
};

}  // namespace lattice::bench
