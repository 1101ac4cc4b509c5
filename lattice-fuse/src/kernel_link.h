// The link between lattice-fuse and the kernel: one gRPC channel to the kernel's Unix socket,
// the bearer credential on every call, and the retry that lets a mount survive the kernel
// restarting under it: a call the kernel could not take (UNAVAILABLE without an errno, the
// socket gone or refused) is tried again with backoff until `retry_deadline` has passed, and
// only then fails (EIO). A credential read from the admin cookie is read again when the kernel
// refuses it, since the kernel writes a new cookie at every start.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/client/backoff.h"
#include "lattice/v1/fs_service.grpc.pb.h"

namespace lattice::fuse {

struct LinkOptions {
  std::string socket_path;  // empty: DefaultClientSocketPath()
  std::string token;        // empty: the admin cookie beside the socket
  std::string store;
  std::chrono::milliseconds retry_deadline{30'000};
  std::chrono::milliseconds call_deadline{60'000};
};

// absl::Status of a gRPC status, same code and message.
absl::Status FromGrpc(const grpc::Status& status);
// absl::Status of a gRPC status code and message, as a call's status or a per-file result
// of a call (FsCommitResult, FsRemoveResult) carries them: OK for 0, UNKNOWN for a code
// outside the canonical range.
absl::Status StatusOfCode(int code, std::string_view message);

// Whether a failed call is worth trying again: the kernel was not there to take it.
bool IsRetryable(const absl::Status& status);

class KernelLink {
 public:
  static absl::StatusOr<std::unique_ptr<KernelLink>> Open(LinkOptions options);

  const std::string& store() const { return options_.store; }
  v1::Fs::Stub* stub() const { return stub_.get(); }

  // Adds the credential (and, when `deadline` is positive, the deadline) to a call.
  void Prepare(grpc::ClientContext* context, std::chrono::milliseconds deadline) const;

  // Runs before every Call (not the watch), on the calling thread, unless an Unhooked is
  // alive on that thread: lattice-fuse sends the creates it answered itself there
  // (creates.h), so the kernel knows of them before it answers anything else. Set before
  // the first call.
  void set_before_call(std::function<void()> hook) { before_call_ = std::move(hook); }
  // While alive, this thread's calls skip the before-call hook (the calls that send what it
  // would send, and the calls they make).
  class Unhooked {
   public:
    Unhooked() { ++depth_; }
    ~Unhooked() { --depth_; }
    Unhooked(const Unhooked&) = delete;
    Unhooked& operator=(const Unhooked&) = delete;
    static bool Active() { return depth_ > 0; }

   private:
    static inline thread_local int depth_ = 0;
  };

  // Runs the unary call `method` of the Fs stub, retrying as described above. `what` names
  // the call in logs.
  template <typename Method, typename Request, typename Response>
  absl::Status Call(std::string_view what, Method method, const Request& request,
                    Response* response) {
    if (before_call_ && !Unhooked::Active()) before_call_();
    auto give_up = std::chrono::steady_clock::now() + options_.retry_deadline;
    // Made at the first failure: seeding it costs more than a call that succeeds at once.
    std::optional<client::Backoff> backoff;
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext context;
      Prepare(&context, options_.call_deadline);
      absl::Status status = FromGrpc((stub_.get()->*method)(&context, request, response));
      if (status.ok()) {
        if (attempt > 0) NoteRecovered(what, attempt);
        return status;
      }
      bool retry = IsRetryable(status);
      if (status.code() == absl::StatusCode::kUnauthenticated && RereadCookie()) retry = true;
      if (!backoff) {
        backoff.emplace(client::BackoffPolicy{std::chrono::milliseconds(20),
                                              std::chrono::milliseconds(1000), 2.0, 0.2});
      }
      auto delay = backoff->Next();
      if (!retry || stopping_.load() ||
          std::chrono::steady_clock::now() + delay > give_up) {
        if (retry) NoteGaveUp(what, status);
        return status;
      }
      if (attempt == 0) NoteRetrying(what, status);
      std::this_thread::sleep_for(delay);
    }
  }

  // True when the credential comes from the admin cookie and the cookie changed (the kernel
  // restarted): calls use the new one from now on.
  bool RereadCookie();

  // The tag this link puts on every call (lattice/common/fs_writer_tag.h), so that its
  // watch can leave out the changes its own calls made: random, never 0.
  uint64_t writer_tag() const { return writer_tag_; }

  // Calls stop retrying (the mount is going away).
  void Stop() { stopping_.store(true); }
  bool stopping() const { return stopping_.load(); }

 private:
  explicit KernelLink(LinkOptions options) : options_(std::move(options)) {}
  void NoteRetrying(std::string_view what, const absl::Status& status);
  void NoteRecovered(std::string_view what, int attempts);
  void NoteGaveUp(std::string_view what, const absl::Status& status);

  LinkOptions options_;
  bool from_cookie_ = false;
  mutable std::mutex mu_;
  std::string authorization_;  // "Bearer <secret>"
  uint64_t writer_tag_ = 0;
  std::string writer_tag_text_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Fs::Stub> stub_;
  std::atomic<bool> stopping_{false};
  std::function<void()> before_call_;
};

}  // namespace lattice::fuse
