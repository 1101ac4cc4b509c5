#include "src/kernel/kernel_link.h"

#include "lattice/common/limits.h"

namespace lattice::web {

KernelLink::KernelLink(std::string socket_path, std::chrono::milliseconds deadline)
    : socket_path_(std::move(socket_path)), deadline_(deadline) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(limits::kMaxRpcMessageBytes);
  args.SetMaxSendMessageSize(limits::kMaxRpcMessageBytes);
  // A restarted kernel is found again quickly: lattice-web answers 503 meanwhile, and
  // event streams resume from their cursor once it is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  channel_ = grpc::CreateCustomChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials(),
                                       args);
  controller_ = v1::Controller::NewStub(channel_);
  kv_ = v1::Kv::NewStub(channel_);
  chat_ = v1::Chat::NewStub(channel_);
  admin_ = v1::Admin::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> KernelLink::NewContext(const std::string& token,
                                                            bool unary) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  if (unary) context->set_deadline(std::chrono::system_clock::now() + deadline_);
  // No wait_for_ready: a kernel that is away is said at once (503), not after the deadline.
  return context;
}

}  // namespace lattice::web
