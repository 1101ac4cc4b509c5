#include "src/api/api_call.h"

#include <strings.h>

#include "src/http/problem.h"

namespace lattice::web {

ApiCall::ApiCall(std::shared_ptr<http::Exchange> exchange,
                 std::map<std::string, std::string> query, std::string token, bool by_cookie)
    : exchange_(std::move(exchange)),
      query_(std::move(query)),
      token_(std::move(token)),
      by_cookie_(by_cookie) {}

std::string ApiCall::Query(const std::string& name, std::string fallback) const {
  auto it = query_.find(name);
  return it == query_.end() ? std::move(fallback) : it->second;
}

void ApiCall::Json(int status, const nlohmann::json& body, Headers headers) {
  Bytes(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "application/json", std::move(headers));
}

void ApiCall::Bytes(int status, std::string body, std::string content_type, Headers headers) {
  http::Response response;
  response.status = status;
  response.headers = std::move(headers);
  response.headers.emplace_back("Content-Type", std::move(content_type));
  bool cache_set = false;
  for (const auto& [name, value] : response.headers) {
    cache_set = cache_set || strcasecmp(name.c_str(), "Cache-Control") == 0;
  }
  if (!cache_set) response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.body = std::move(body);
  exchange_->Respond(std::move(response));
}

void ApiCall::Empty(int status, Headers headers) {
  http::Response response;
  response.status = status;
  response.headers = std::move(headers);
  response.headers.emplace_back("Cache-Control", "no-store");
  exchange_->Respond(std::move(response));
}

void ApiCall::Fail(int status, std::string detail) { FailWithHeaders(status, std::move(detail), {}); }

void ApiCall::FailWithHeaders(int status, std::string detail, Headers headers) {
  http::Response response = http::Problem(status, std::move(detail));
  for (auto& header : headers) response.headers.push_back(std::move(header));
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"lattice\"");
  if (status == 503) response.headers.emplace_back("Retry-After", "1");
  exchange_->Respond(std::move(response));
}

void ApiCall::Fail(const grpc::Status& status) {
  std::string detail = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    detail = "the kernel is not answering (" + detail + ")";
  }
  Fail(HttpStatusOf(status.error_code()), std::move(detail));
}

void ApiCall::Fail(const absl::Status& status) {
  Fail(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                    std::string(status.message().data(), status.message().size())));
}

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::FAILED_PRECONDITION: return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

}  // namespace lattice::web
