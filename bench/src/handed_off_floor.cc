#include "handed_off_floor.h"

#include <vector>

namespace lattice::bench {

HandedOffFloorKv::HandedOffFloorKv(size_t value_bytes,
                                   std::unique_ptr<leveldb::WritableFile> sync_file)
    : replies_(value_bytes), sync_file_(std::move(sync_file)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

HandedOffFloorKv::~HandedOffFloorKv() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

grpc::ServerUnaryReactor* HandedOffFloorKv::Get(grpc::CallbackServerContext* context,
                                                const v1::GetRequest*,
                                                v1::GetResponse* response) {
  *response = replies_.get;
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* HandedOffFloorKv::Put(grpc::CallbackServerContext* context,
                                                const v1::PutRequest* request,
                                                v1::WriteResult* response) {
  return HandOff(context, *request, response);
}

grpc::ServerUnaryReactor* HandedOffFloorKv::Batch(grpc::CallbackServerContext* context,
                                                  const v1::BatchRequest* request,
                                                  v1::WriteResult* response) {
  return HandOff(context, *request, response);
}

grpc::ServerUnaryReactor* HandedOffFloorKv::HandOff(grpc::CallbackServerContext* context,
                                                    const google::protobuf::MessageLite& request,
                                                    v1::WriteResult* response) {
  auto* reactor = context->DefaultReactor();
  Pending pending{request.SerializeAsString(), reactor, response};
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(pending));
  }
  wake_.notify_one();
  return reactor;
}

void HandedOffFloorKv::WriterLoop() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left to answer
      group.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    bool ok = true;
    for (const Pending& p : group) ok = ok && sync_file_->Append(p.record).ok();
    ok = ok && sync_file_->Sync().ok();
    for (Pending& p : group) {
      if (ok) {
        *p.response = replies_.write;
        p.reactor->Finish(grpc::Status::OK);
      } else {
        p.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the floor's sync file failed"));
      }
    }
    group.clear();
  }
}

}  // namespace lattice::bench
