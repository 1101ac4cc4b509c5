// Everything lattice-web answers: the REST API, its OpenAPI document, the metrics, and the
// management page's files. Finds the caller's token (Authorization: Bearer, else the session
// cookie), refuses cookie-borne writes from other origins, and routes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "src/api/router.h"
#include "src/api/routes.h"
#include "src/api/static_files.h"
#include "src/http/exchange.h"

namespace lattice::web {

class Gateway {
 public:
  // `metrics` answers GET /metrics (it checks the caller itself); may be empty.
  using MetricsHandler = std::function<void(const std::shared_ptr<ApiCall>&)>;

  Gateway(ApiContext& context, StaticFiles page, MetricsHandler metrics);

  void Handle(const std::shared_ptr<http::Exchange>& exchange) const;

 private:
  ApiContext& context_;
  Router router_;
  StaticFiles page_;
  MetricsHandler metrics_;
};

// The OpenAPI 3.1 document of this API (written by lattice-web/openapi.py, built in).
const std::string& OpenApiDocument();

}  // namespace lattice::web
