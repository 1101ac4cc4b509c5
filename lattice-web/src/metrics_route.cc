#include "src/metrics_route.h"

#include "src/metrics/prometheus_text.h"

namespace lattice::web {

Gateway::MetricsHandler MetricsRoute(ApiContext& context, ServerFigures server) {
  return [&context, server = std::move(server)](const std::shared_ptr<ApiCall>& call) {
    if (call->token().empty()) {
      return call->Fail(401, "metrics need a token with the metrics right, or the admin cookie");
    }
    context.link.Call(
        context.link.admin().async(), &v1::Admin::Stub::async::Metrics, call->token(),
        v1::MetricsRequest(),
        [&context, server, call](grpc::Status status, v1::MetricsResponse response) {
          if (!status.ok()) return call->Fail(status);
          metrics::WebCounters web;
          web.open_http_connections = server.connections();
          web.requests_by_class = server.responses_by_class();
          web.open_sse_streams = context.feeds.clients();
          call->Bytes(200, metrics::RenderPrometheus(response, web),
                      std::string(metrics::kPrometheusContentType));
        });
  };
}

}  // namespace lattice::web
