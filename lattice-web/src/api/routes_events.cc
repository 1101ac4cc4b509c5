// Live events as server-sent events. The stream's `id:` lines are watch positions (see
// kernel/event_position.h): a browser reconnecting with Last-Event-ID, or a client passing
// ?since=, resumes with nothing missed and nothing twice.
#include "src/api/routes.h"

namespace lattice::web {
namespace {

void Follow(ApiContext& ctx, const std::shared_ptr<ApiCall>& call, FeedKind kind,
            std::string filter, std::optional<EventPosition> since) {
  http::Response head;
  head.headers = {{"Content-Type", "text/event-stream"},
                  {"Cache-Control", "no-store"},
                  {"X-Accel-Buffering", "no"}};  // nginx: do not hold events back
  std::shared_ptr<http::Stream> stream = call->exchange()->StartStream(std::move(head));
  // How long a browser waits before it reconnects after the stream breaks.
  stream->Write("retry: 2000\n\n");
  FeedSpec spec{call->token(), call->params()[0], std::move(filter), kind};
  ctx.feeds.Subscribe(spec, stream, since);
}

}  // namespace

void AddEventRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/v1/stores/{store}/events", [&ctx](const auto& call) {
    std::optional<EventPosition> since;
    std::optional<std::string> given;
    if (auto last = call->request().Header("Last-Event-ID")) {
      given = std::string(*last);  // a browser's reconnect: wins over the URL's ?since=
    } else if (call->HasQuery("since")) {
      given = call->Query("since");
    }
    if (given) {
      since = EventPosition::Parse(*given);
      if (!since) {
        return call->Fail(400, "Last-Event-ID or since must be an event id of this stream "
                               "(a cursor such as 42, or 42.3)");
      }
    }
    // The store's type says which watch to run, and its length is "now" for a client that
    // starts fresh, pinned before the stream opens so nothing between is lost.
    v1::OpenStoreRequest request;
    request.set_store(call->params()[0]);
    ctx.link.Call(
        ctx.link.controller().async(), &v1::Controller::Stub::async::OpenStore, call->token(),
        request, [&ctx, call, since](grpc::Status status, v1::StoreInfo info) mutable {
          if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            // A token that may watch but not read: a kv watch the kernel itself will judge.
            return Follow(ctx, call, FeedKind::kKv, call->Query("prefix"), since);
          }
          if (!status.ok()) return call->Fail(status);
          if (!since) since = EventPosition{info.intentions(), 0};
          if (info.type() == "chat") {
            return Follow(ctx, call, FeedKind::kChat, call->Query("channel"), since);
          }
          if (info.type() == "fs") {
            return call->Fail(400, "an fs store's changes are followed through lattice-fuse");
          }
          Follow(ctx, call, FeedKind::kKv, call->Query("prefix"), since);
        });
  });
}

}  // namespace lattice::web
