#include "fake_kernel.h"

#include <stdlib.h>

#include <fstream>
#include <thread>

#include "lattice/common/paths.h"

namespace lattice::testing {
namespace {

grpc::Status Unimplemented() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not faked by this test");
}

template <typename Request, typename Response>
grpc::Status RunUnary(FakeKernel* kernel, grpc::ServerContext* context,
                      const UnaryHook<Request, Response>& hook, const Request& request,
                      Response* response) {
  if (grpc::Status auth = kernel->Authenticate(context); !auth.ok()) return auth;
  if (!hook) return Unimplemented();
  return hook(request, response);
}

template <typename Request, typename Response>
grpc::Status RunStream(FakeKernel* kernel, grpc::ServerContext* context,
                       const StreamHook<Request, Response>& hook, const Request& request,
                       grpc::ServerWriter<Response>* writer) {
  if (grpc::Status auth = kernel->Authenticate(context); !auth.ok()) return auth;
  if (!hook) return Unimplemented();
  return hook(context, request, writer);
}

class ControllerService final : public v1::Controller::Service {
 public:
  explicit ControllerService(FakeKernel* kernel) : kernel_(kernel) {}
  grpc::Status Connect(grpc::ServerContext* context, const v1::ConnectRequest* request,
                       v1::ConnectResponse* response) override {
    kernel_->RecordConnect(*request);
    if (grpc::Status auth = kernel_->Authenticate(context); !auth.ok()) return auth;
    if (kernel_->hooks().connect) return kernel_->hooks().connect(*request, response);
    response->set_session_id("session-1");
    response->mutable_node()->set_node_id(std::string(64, 'a'));
    response->mutable_node()->set_name("fake");
    response->mutable_node()->set_version("0.1.0");
    response->set_admin(true);
    return grpc::Status::OK;
  }
  grpc::Status OpenStore(grpc::ServerContext* context, const v1::OpenStoreRequest* request,
                         v1::StoreInfo* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().open_store, *request, response);
  }

 private:
  FakeKernel* kernel_;
};

class KvService final : public v1::Kv::Service {
 public:
  explicit KvService(FakeKernel* kernel) : kernel_(kernel) {}
  grpc::Status Get(grpc::ServerContext* context, const v1::GetRequest* request,
                   v1::GetResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().get, *request, response);
  }
  grpc::Status Put(grpc::ServerContext* context, const v1::PutRequest* request,
                   v1::WriteResult* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().put, *request, response);
  }
  grpc::Status Batch(grpc::ServerContext* context, const v1::BatchRequest* request,
                     v1::WriteResult* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().batch, *request, response);
  }
  grpc::Status Scan(grpc::ServerContext* context, const v1::ScanRequest* request,
                    grpc::ServerWriter<v1::ScanPage>* writer) override {
    return RunStream(kernel_, context, kernel_->hooks().scan, *request, writer);
  }
  grpc::Status Watch(grpc::ServerContext* context, const v1::KvWatchRequest* request,
                     grpc::ServerWriter<v1::KvWatchResponse>* writer) override {
    return RunStream(kernel_, context, kernel_->hooks().kv_watch, *request, writer);
  }

 private:
  FakeKernel* kernel_;
};

class ChatService final : public v1::Chat::Service {
 public:
  explicit ChatService(FakeKernel* kernel) : kernel_(kernel) {}
  grpc::Status Watch(grpc::ServerContext* context, const v1::ChatWatchRequest* request,
                     grpc::ServerWriter<v1::ChatWatchResponse>* writer) override {
    return RunStream(kernel_, context, kernel_->hooks().chat_watch, *request, writer);
  }

 private:
  FakeKernel* kernel_;
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(FakeKernel* kernel) : kernel_(kernel) {}
  grpc::Status Status(grpc::ServerContext* context, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().status, *request, response);
  }
  grpc::Status CreateToken(grpc::ServerContext* context, const v1::CreateTokenRequest* request,
                           v1::CreateTokenResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().create_token, *request, response);
  }
  grpc::Status VerifyStore(grpc::ServerContext* context, const v1::StoreRef* request,
                           v1::VerifyResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().verify, *request, response);
  }
  grpc::Status Ingest(grpc::ServerContext* context, const v1::IngestRequest* request,
                      v1::IngestResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().ingest, *request, response);
  }
  grpc::Status Floating(grpc::ServerContext* context, const v1::StoreRef* request,
                        v1::FloatingResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().floating, *request, response);
  }
  grpc::Status StoreStatus(grpc::ServerContext* context, const v1::StoreRef* request,
                           v1::StoreStatusResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().store_status, *request, response);
  }
  grpc::Status SyncStore(grpc::ServerContext* context, const v1::SyncStoreRequest* request,
                         v1::SyncStoreResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().sync_store, *request, response);
  }
  grpc::Status InvitePeer(grpc::ServerContext* context, const v1::InvitePeerRequest* request,
                          v1::InvitePeerResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().invite_peer, *request, response);
  }
  grpc::Status JoinMesh(grpc::ServerContext* context, const v1::JoinMeshRequest* request,
                        v1::JoinMeshResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().join_mesh, *request, response);
  }
  grpc::Status ListPeers(grpc::ServerContext* context, const v1::ListPeersRequest* request,
                         v1::ListPeersResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().list_peers, *request, response);
  }
  grpc::Status RevokePeer(grpc::ServerContext* context, const v1::PeerRef* request,
                          v1::ListPeersResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().revoke_peer, *request, response);
  }
  grpc::Status RenamePeer(grpc::ServerContext* context, const v1::RenamePeerRequest* request,
                          v1::ListPeersResponse* response) override {
    return RunUnary(kernel_, context, kernel_->hooks().rename_peer, *request, response);
  }

 private:
  FakeKernel* kernel_;
};

}  // namespace

FakeKernel::FakeKernel(std::string cookie, FakeKernelHooks hooks)
    : cookie_(std::move(cookie)), hooks_(std::move(hooks)) {}

std::unique_ptr<FakeKernel> FakeKernel::Start(const std::string& socket_path,
                                              const std::string& cookie,
                                              FakeKernelHooks hooks) {
  std::unique_ptr<FakeKernel> kernel(new FakeKernel(cookie, std::move(hooks)));
  {
    std::ofstream file(CookiePathForSocket(socket_path), std::ios::trunc);
    file << cookie << "\n";
  }
  kernel->services_.push_back(std::make_unique<ControllerService>(kernel.get()));
  kernel->services_.push_back(std::make_unique<KvService>(kernel.get()));
  kernel->services_.push_back(std::make_unique<ChatService>(kernel.get()));
  kernel->services_.push_back(std::make_unique<AdminService>(kernel.get()));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  for (auto& service : kernel->services_) builder.RegisterService(service.get());
  kernel->server_ = builder.BuildAndStart();
  if (kernel->server_ == nullptr) return nullptr;
  return kernel;
}

FakeKernel::~FakeKernel() { Shutdown(); }

void FakeKernel::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(50));
  server_->Wait();
  server_.reset();
}

grpc::Status FakeKernel::Authenticate(grpc::ServerContext* context) {
  std::string authorization;
  auto found = context->client_metadata().find("authorization");
  if (found != context->client_metadata().end()) {
    authorization.assign(found->second.data(), found->second.size());
  }
  std::chrono::milliseconds budget = std::chrono::milliseconds::max();
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    budget = std::chrono::duration_cast<std::chrono::milliseconds>(
        context->deadline() - std::chrono::system_clock::now());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    authorizations_.push_back(authorization);
    last_call_budget_ = budget;
  }
  const std::string bearer = "Bearer ";
  if (authorization.rfind(bearer, 0) != 0) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer credentials");
  }
  std::string secret = authorization.substr(bearer.size());
  if (secret == cookie_ || hooks_.tokens.count(secret) > 0) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown credentials");
}

void FakeKernel::RecordConnect(const v1::ConnectRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  connects_.push_back(request);
}

std::vector<std::string> FakeKernel::authorizations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return authorizations_;
}

std::chrono::milliseconds FakeKernel::last_call_budget() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_call_budget_;
}

std::vector<v1::ConnectRequest> FakeKernel::connects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connects_;
}

void WaitUntilCancelled(grpc::ServerContext* context) {
  while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/lattice-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace lattice::testing
