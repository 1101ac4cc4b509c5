#include "src/kernel_link.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "lattice/client/credentials.h"
#include "lattice/common/crypto.h"
#include "lattice/common/fs_writer_tag.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"

namespace lattice::fuse {

absl::Status StatusOfCode(int code, std::string_view text) {
  if (code == 0) return absl::OkStatus();
  absl::string_view message(text.data(), text.size());
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::UnknownError(message);
  }
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

absl::Status FromGrpc(const grpc::Status& status) {
  return StatusOfCode(static_cast<int>(status.error_code()), status.error_message());
}

bool IsRetryable(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return false;
  // An fs failure that says UNAVAILABLE on purpose names its errno; a transport failure
  // does not.
  return status.message().find("[errno=") == absl::string_view::npos;
}

absl::StatusOr<std::unique_ptr<KernelLink>> KernelLink::Open(LinkOptions options) {
  if (options.socket_path.empty()) options.socket_path = DefaultClientSocketPath();
  std::unique_ptr<KernelLink> link(new KernelLink(std::move(options)));
  link->from_cookie_ = link->options_.token.empty();
  auto secret = client::ResolveSecret(link->options_.token, link->options_.socket_path);
  if (!secret.ok()) return secret.status();
  link->authorization_ = "Bearer " + *secret;
  while (link->writer_tag_ == 0) {
    std::string random = RandomBytes(sizeof link->writer_tag_);
    std::memcpy(&link->writer_tag_, random.data(), sizeof link->writer_tag_);
  }
  link->writer_tag_text_ = FsWriterTagText(link->writer_tag_);

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(limits::kMaxRpcMessageBytes));
  args.SetMaxSendMessageSize(static_cast<int>(limits::kMaxRpcMessageBytes));
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // The kernel is local: after a restart reconnect within tens of milliseconds, not gRPC's
  // default of a second growing to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  link->channel_ = grpc::CreateCustomChannel("unix:" + link->options_.socket_path,
                                             grpc::InsecureChannelCredentials(), args);
  link->stub_ = v1::Fs::NewStub(link->channel_);
  return link;
}

void KernelLink::Prepare(grpc::ClientContext* context,
                         std::chrono::milliseconds deadline) const {
  {
    std::lock_guard lock(mu_);
    context->AddMetadata("authorization", authorization_);
  }
  context->AddMetadata(kFsWriterMetadata, writer_tag_text_);
  if (deadline.count() > 0) context->set_deadline(std::chrono::system_clock::now() + deadline);
}

bool KernelLink::RereadCookie() {
  if (!from_cookie_) return false;
  auto secret = client::ResolveSecret("", options_.socket_path);
  if (!secret.ok()) return false;
  std::lock_guard lock(mu_);
  std::string authorization = "Bearer " + *secret;
  if (authorization == authorization_) return false;
  authorization_ = std::move(authorization);
  spdlog::info("the kernel wrote a new admin cookie (it restarted); using it");
  return true;
}

void KernelLink::NoteRetrying(std::string_view what, const absl::Status& status) {
  spdlog::warn("{}: the kernel is not answering ({}); retrying for up to {} s", what,
               std::string_view(status.message().data(), status.message().size()),
               options_.retry_deadline.count() / 1000);
}

void KernelLink::NoteRecovered(std::string_view what, int attempts) {
  spdlog::info("{}: the kernel answered again after {} attempts", what, attempts + 1);
}

void KernelLink::NoteGaveUp(std::string_view what, const absl::Status& status) {
  spdlog::error("{}: the kernel did not come back within {} s ({}); answering EIO", what,
                options_.retry_deadline.count() / 1000,
                std::string_view(status.message().data(), status.message().size()));
}

}  // namespace lattice::fuse
