#include "floor_service.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "handed_off_floor.h"
#include "lattice/common/limits.h"
#include "storage/prepared_log_file.h"

namespace lattice::bench {
namespace {

// 64 hex characters, the size of the kernel's hashes and node ids on the wire.
const std::string kHexId(64, 'a');

}  // namespace

FloorController::FloorController() {
  connect_.set_session_id(std::string(32, 'b'));
  connect_.set_admin(true);
  connect_.mutable_node()->set_node_id(kHexId);
  connect_.mutable_node()->set_name("floor");
  connect_.mutable_node()->set_version("floor");
}

grpc::Status FloorController::Connect(grpc::ServerContext*, const v1::ConnectRequest*,
                                      v1::ConnectResponse* response) {
  *response = connect_;
  return grpc::Status::OK;
}

grpc::Status FloorController::OpenStore(grpc::ServerContext*, const v1::OpenStoreRequest* request,
                                        v1::StoreInfo* response) {
  response->set_id(request->store());
  response->set_name(request->store());
  response->set_type("kv");
  response->set_status("active");
  return grpc::Status::OK;
}

FloorReplies::FloorReplies(size_t value_bytes) {
  uint64_t now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count());
  get.set_found(true);
  get.set_value(std::string(value_bytes, 'v'));
  get.mutable_hlc()->set_wall_ms(now_ms);
  get.mutable_hlc()->set_counter(1);
  get.set_author(kHexId);
  write.set_hash(kHexId);
  write.set_cursor(123456);
  write.mutable_hlc()->set_wall_ms(now_ms);
  write.mutable_hlc()->set_counter(1);
}

FloorKv::FloorKv(size_t value_bytes, std::unique_ptr<leveldb::WritableFile> sync_file)
    : replies_(value_bytes), sync_file_(std::move(sync_file)) {}

FloorKv::~FloorKv() = default;

grpc::Status FloorKv::AppendDurably(const google::protobuf::MessageLite& request) {
  if (!sync_file_) return grpc::Status::OK;
  std::string record = request.SerializeAsString();
  std::lock_guard lock(sync_mutex_);
  if (!sync_file_->Append(record).ok() || !sync_file_->Sync().ok()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the floor's sync file failed");
  }
  return grpc::Status::OK;
}

grpc::Status FloorKv::Get(grpc::ServerContext*, const v1::GetRequest*, v1::GetResponse* response) {
  *response = replies_.get;
  return grpc::Status::OK;
}

grpc::Status FloorKv::Put(grpc::ServerContext*, const v1::PutRequest* request,
                          v1::WriteResult* response) {
  *response = replies_.write;
  return AppendDurably(*request);
}

grpc::Status FloorKv::Batch(grpc::ServerContext*, const v1::BatchRequest* request,
                            v1::WriteResult* response) {
  *response = replies_.write;
  return AppendDurably(*request);
}

absl::StatusOr<std::unique_ptr<FloorServer>> FloorServer::Start(const std::string& socket_path,
                                                                size_t value_bytes,
                                                                const std::string& sync_path,
                                                                bool hand_off) {
  std::unique_ptr<leveldb::WritableFile> sync_file;
  if (!sync_path.empty()) {
    leveldb::Status s = kernel::PreparedLogFile::Create(sync_path, &sync_file);
    if (!s.ok()) return absl::UnavailableError(fmt::format("cannot open {}: {}", sync_path, s.ToString()));
  }
  std::unique_ptr<FloorServer> server(new FloorServer());
  server->socket_path_ = socket_path;
  server->controller_ = std::make_unique<FloorController>();
  if (hand_off && sync_file) {
    server->kv_ = std::make_unique<HandedOffFloorKv>(value_bytes, std::move(sync_file));
  } else {
    server->kv_ = std::make_unique<FloorKv>(value_bytes, std::move(sync_file));
  }
  ::unlink(socket_path.c_str());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(limits::kMaxRpcMessageBytes);
  builder.SetMaxSendMessageSize(limits::kMaxRpcMessageBytes);
  builder.RegisterService(server->controller_.get());
  builder.RegisterService(server->kv_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_) {
    return absl::UnavailableError(fmt::format("cannot listen on unix socket {}", socket_path));
  }
  ::chmod(socket_path.c_str(), 0660);
  return server;
}

void FloorServer::Shutdown() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  server_.reset();
  ::unlink(socket_path_.c_str());
}

FloorServer::~FloorServer() { Shutdown(); }

}  // namespace lattice::bench
