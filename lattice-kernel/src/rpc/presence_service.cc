// Presence.Announce and Presence.Watch (store_protocol.proto): the node's presence hub
// (presence/presence_hub.h) behind the Store Protocol's credentials and stream limits.
#include <fmt/format.h>

#include <deque>
#include <mutex>

#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "presence/presence_hub.h"
#include "rpc/services.h"
#include "rpc/stream_reactor.h"

namespace lattice::kernel {
namespace {

// Any store type has presence; a token's key scope applies to presence keys.
AccessRequest PresenceAccess(const std::string& store, Right right, KeyScope::Kind kind,
                             std::string_view key) {
  return AccessRequest{store, right, std::nullopt, KeyScope{kind, key}, {}};
}

void FillEntry(const presence::PresenceChange& change, uint64_t now_ms, v1::PresenceEntry* out) {
  out->set_node(ToHex(change.origin));
  out->set_key(change.key);
  out->set_value(change.value);
  uint64_t left = change.gone || change.expires_at_ms <= now_ms ? 0 : change.expires_at_ms - now_ms;
  out->set_expires_in_ms(static_cast<uint32_t>(std::min<uint64_t>(left, UINT32_MAX)));
}

// Presence.Watch: a snapshot of the live entries under the prefix in one response (a store
// holds at most what fits one, presence_limits.h), then every change as it happens, in
// pages of about limits::kMaxStreamPageBytes.
// The hub hands changes over as they are made; they wait here for the client, up to
// presence::limits::kMaxBufferedWatchBytes, past which the stream ends.
class PresenceWatchStream final : public StreamReactor<v1::PresenceWatchResponse> {
 public:
  PresenceWatchStream(ServiceContext& ctx, grpc::CallbackServerContext* context,
                      const v1::PresenceWatchRequest* request)
      : StreamReactor(ctx, context), request_(*request), hub_(*ctx.presence),
        pump_(*ctx.streams) {}

  ~PresenceWatchStream() override {
    if (watch_id_ != 0) hub_.Unwatch(watch_id_);
  }

 protected:
  AccessRequest Access() const override {
    return PresenceAccess(request_.store(), Right::kWatch, KeyScope::Kind::kPrefix,
                          request_.prefix());
  }

  absl::Status Start(const StoreAccess& access) override {
    if (request_.prefix().size() > presence::limits::kMaxPrefixBytes) {
      return absl::InvalidArgumentError(fmt::format(
          "a presence prefix of {} bytes; keys have at most {}", request_.prefix().size(),
          presence::limits::kMaxPrefixBytes));
    }
    watch_id_ = hub_.Watch(
        access.descriptor.id, request_.prefix(),
        [this](const presence::PresenceChange& change) { OnChange(change); }, &snapshot_);
    return absl::OkStatus();
  }

  absl::StatusOr<Step> Next(v1::PresenceWatchResponse& out, bool tick) override {
    uint64_t now = hub_.NowMs();
    size_t bytes = 0;
    if (!snapshot_sent_) {
      // The first response is the whole snapshot, even an empty one.
      out.set_snapshot(true);
      for (const auto& change : snapshot_) FillEntry(change, now, out.add_events()->mutable_entry());
      snapshot_sent_ = true;
      snapshot_ = {};
      return Step::kWrite;
    }
    std::lock_guard lock(mu_);
    if (overflowed_) {
      return absl::ResourceExhaustedError(fmt::format(
          "this watch fell more than {} bytes of presence changes behind its client; watch "
          "again for a fresh snapshot",
          presence::limits::kMaxBufferedWatchBytes));
    }
    while (!pending_.empty() && bytes < limits::kMaxStreamPageBytes) {
      auto* event = out.add_events();
      FillEntry(pending_.front(), now, event->mutable_entry());
      event->set_gone(pending_.front().gone);
      size_t size = event->ByteSizeLong();
      bytes += size;
      buffered_bytes_ -= std::min(buffered_bytes_, SizeOf(pending_.front()));
      pending_.pop_front();
    }
    return out.events_size() > 0 ? Step::kWrite : Step::kIdle;
  }

  std::string StoppingMessage() const override {
    return "the kernel is stopping; watch presence again once it is back (a new watch starts "
           "with a snapshot)";
  }

 private:
  static size_t SizeOf(const presence::PresenceChange& change) {
    return change.key.size() + change.value.size() + change.origin.size() + 64;
  }

  // Called by the hub under its lock: queue, and let the pump send.
  void OnChange(const presence::PresenceChange& change) {
    {
      std::lock_guard lock(mu_);
      if (overflowed_) return;
      if (buffered_bytes_ + SizeOf(change) > presence::limits::kMaxBufferedWatchBytes) {
        overflowed_ = true;
        pending_.clear();
        buffered_bytes_ = 0;
      } else {
        buffered_bytes_ += SizeOf(change);
        pending_.push_back(change);
      }
    }
    pump_.Wake();
  }

  const v1::PresenceWatchRequest& request_;
  presence::PresenceHub& hub_;
  StreamPump& pump_;
  uint64_t watch_id_ = 0;

  // Pump thread only.
  std::vector<presence::PresenceChange> snapshot_;
  bool snapshot_sent_ = false;

  std::mutex mu_;  // the hub's thread adds, the pump takes
  std::deque<presence::PresenceChange> pending_;
  size_t buffered_bytes_ = 0;
  bool overflowed_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* PresenceService::Announce(grpc::CallbackServerContext* context,
                                                   const v1::AnnounceRequest* request,
                                                   v1::AnnounceResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth,
                            PresenceAccess(request->store(), Right::kWrite, KeyScope::Kind::kKey,
                                           request->key()));
  if (!access.ok()) {
    reactor->Finish(ToGrpc(access.status()));
    return reactor;
  }
  reactor->Finish(ToGrpc(ctx_.presence->Announce(access->descriptor.id, request->key(),
                                                 request->value(), request->ttl_ms())));
  return reactor;
}

grpc::ServerWriteReactor<v1::PresenceWatchResponse>* PresenceService::Watch(
    grpc::CallbackServerContext* context, const v1::PresenceWatchRequest* request) {
  return StreamReactor<v1::PresenceWatchResponse>::Open<PresenceWatchStream>(ctx_, context,
                                                                            request);
}

}  // namespace lattice::kernel
