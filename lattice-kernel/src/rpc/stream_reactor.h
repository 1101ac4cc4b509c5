// The base of every server stream (Kv.Scan, Kv.Watch, Chat.Watch): a gRPC write reactor the
// StreamPump drives. It authorizes the call and takes a stream slot when it opens, keeps at
// most one write in flight, re-checks the caller's credential and scope at every tick (a
// revoked or expired token ends the stream with UNAUTHENTICATED), ends a watch at the
// kernel's stop with UNAVAILABLE (a scan may finish in the shutdown's grace), and frees its
// page as soon as the call is cancelled.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "rpc/call_context.h"
#include "rpc/services.h"
#include "rpc/stream_pump.h"

namespace lattice::kernel {

template <typename Response>
class StreamReactor : public grpc::ServerWriteReactor<Response>, public PumpedStream {
 public:
  // Creates a stream of type `Stream` for the call (with `extra` after the request) and opens
  // it; gRPC owns the result.
  template <typename Stream, typename Request, typename... Extra>
  static grpc::ServerWriteReactor<Response>* Open(ServiceContext& ctx,
                                                   grpc::CallbackServerContext* context,
                                                   const Request* request, Extra&&... extra) {
    auto* stream = new Stream(ctx, context, request, std::forward<Extra>(extra)...);
    static_cast<StreamReactor*>(stream)->Begin();
    return stream;
  }

  void OnWriteDone(bool ok) override {
    StreamPump& pump = *ctx_.streams;
    if (!ok) cancelled_ = true;
    writing_ = false;
    pump.Wake();
  }
  void OnCancel() override {
    cancelled_ = true;
    ctx_.streams->Wake();
  }
  void OnDone() override { delete this; }

  bool Pump(bool tick, bool stopping) final {
    if (writing_.load()) return true;
    if (cancelled_.load()) return End(grpc::Status::CANCELLED);
    if (stopping && !StoppingMessage().empty()) {
      return End(ToGrpc(absl::UnavailableError(StoppingMessage())));
    }
    if (tick) {
      auto access = OpenForCall(*context_, ctx_.node, ctx_.auth, Access());
      if (!access.ok()) return End(ToGrpc(access.status()));
    }
    response_ = Response();  // frees the last page's buffers, not only its contents
    auto step = Next(response_, tick);
    if (!step.ok()) return End(ToGrpc(step.status()));
    switch (*step) {
      case Step::kIdle:
        return true;
      case Step::kDone:
        return End(grpc::Status::OK);
      case Step::kWrite:
        writing_ = true;
        this->StartWrite(&response_);
        return true;
    }
    return true;
  }

 protected:
  enum class Step { kIdle, kWrite, kDone };

  StreamReactor(ServiceContext& ctx, grpc::CallbackServerContext* context)
      : ctx_(ctx), context_(context) {}

  // What the call reads: checked when it opens and again at every tick.
  virtual AccessRequest Access() const = 0;
  // Sets the stream up once authorized; an error ends the call with it.
  virtual absl::Status Start(const StoreAccess& access) = 0;
  // Fills `out` (empty) with the next page: kWrite sends it, kIdle waits for the next
  // wake-up, kDone ends the call with OK. Pump thread only.
  virtual absl::StatusOr<Step> Next(Response& out, bool tick) = 0;
  // Why the stream ends when the kernel stops, and how to go on; empty for a stream that
  // may run on through the server's shutdown grace.
  virtual std::string StoppingMessage() const = 0;

  Store& store() const { return *store_; }
  StreamPump& pump() const { return *ctx_.streams; }

 private:
  void Begin() {
    absl::Status status = [&]() -> absl::Status {
      auto access = OpenForCall(*context_, ctx_.node, ctx_.auth, Access());
      if (!access.ok()) return access.status();
      std::string credential =
          access->caller.admin ? "the admin cookie" : "token " + access->caller.token.id();
      auto slot = ctx_.streams->Admit(context_->peer(), credential);
      if (!slot.ok()) return slot.status();
      slot_ = *std::move(slot);
      store_ = access->store;
      return Start(*access);
    }();
    if (!status.ok()) {
      slot_.reset();
      this->Finish(ToGrpc(status));
      return;
    }
    witness_subscription_ = store_->SubscribeWitness([pump = ctx_.streams] { pump->Wake(); });
    ctx_.streams->Add(this);
  }

  // Gives back what the stream holds, then finishes the call; `this` may be gone after.
  bool End(const grpc::Status& status) {
    store_->UnsubscribeWitness(witness_subscription_);
    slot_.reset();
    response_ = Response();
    this->Finish(status);
    return false;
  }

  ServiceContext& ctx_;
  grpc::CallbackServerContext* context_;
  Store* store_ = nullptr;
  uint64_t witness_subscription_ = 0;
  std::unique_ptr<StreamSlot> slot_;
  Response response_;  // the page in flight; untouched while writing_
  std::atomic<bool> writing_{false};
  std::atomic<bool> cancelled_{false};
};

}  // namespace lattice::kernel
