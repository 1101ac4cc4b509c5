// Client's innards, shared with FsClient (fs_client.cc), which calls the Fs service over the
// same channel with the same credentials and deadlines.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "grpc_status.h"
#include "lattice/client.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::client {

// A wait longer than this is cut to it when computing a deadline, so the deadline stays a
// representable time point.
inline constexpr std::chrono::milliseconds kMaxCallWait = std::chrono::hours(24 * 365);

struct Client::Impl {
  ClientOptions options;
  std::string socket_path;
  std::string authorization;  // "Bearer <secret>"
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Controller::Stub> controller;
  std::unique_ptr<v1::Kv::Stub> kv;
  std::unique_ptr<v1::Chat::Stub> chat;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::Presence::Stub> presence;
  v1::ConnectResponse session;

  // `deadline` is relative to now; zero means none.
  void Prepare(grpc::ClientContext* context, std::chrono::milliseconds deadline) const {
    context->AddMetadata("authorization", authorization);
    if (deadline.count() > 0) {
      context->set_deadline(std::chrono::system_clock::now() + deadline);
    }
  }

  // The deadline of a call that the kernel may keep for `timeout_ms` (0: its default).
  std::chrono::milliseconds WaitingDeadline(uint64_t timeout_ms) const {
    if (options.default_deadline.count() <= 0) return std::chrono::milliseconds(0);
    std::chrono::milliseconds wait = Client::kDefaultKernelWait;
    if (timeout_ms != 0) {
      wait = timeout_ms >= static_cast<uint64_t>(kMaxCallWait.count())
                 ? kMaxCallWait
                 : std::chrono::milliseconds(static_cast<int64_t>(timeout_ms));
    }
    return std::max(options.default_deadline, wait + Client::kLongCallMargin);
  }

  // Runs one unary call with the default deadline: `call(context, response)` returns the
  // grpc::Status.
  template <typename Response, typename Call>
  absl::StatusOr<Response> Unary(Call&& call) const {
    return UnaryWithin<Response>(options.default_deadline, std::forward<Call>(call));
  }

  // The same with its own deadline (zero: none).
  template <typename Response, typename Call>
  absl::StatusOr<Response> UnaryWithin(std::chrono::milliseconds deadline, Call&& call) const {
    grpc::ClientContext context;
    Prepare(&context, deadline);
    Response response;
    grpc::Status status = call(&context, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  // Runs a server stream opened by `start(context)`, handing each message to `on_message`
  // until it returns false, the canceller fires or the stream ends.
  template <typename Message, typename Start, typename Callback>
  absl::Status Stream(Start&& start, const Callback& on_message,
                      WatchCanceller* canceller) const {
    grpc::ClientContext context;
    Prepare(&context, /*deadline=*/std::chrono::milliseconds(0));
    if (canceller != nullptr && !canceller->Attach(&context)) return absl::OkStatus();
    bool stopped = false;
    grpc::Status status;
    {
      auto reader = start(&context);
      Message message;
      while (reader->Read(&message)) {
        if (!on_message(message)) {
          stopped = true;
          context.TryCancel();
          break;
        }
      }
      if (stopped) {
        while (reader->Read(&message)) {
        }
      }
      status = reader->Finish();
    }
    bool cancelled = false;
    if (canceller != nullptr) {
      cancelled = canceller->cancelled();
      canceller->Detach();
    }
    if (stopped || cancelled) return absl::OkStatus();
    return FromGrpcStatus(status);
  }
};

}  // namespace lattice::client
