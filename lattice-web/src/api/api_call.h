// One REST call in progress: the HTTP exchange, the route's parameters, the caller's token,
// and the ways to answer it (JSON, bytes, or an RFC 9457 problem). Answers may be given from
// any thread, once; the kernel's callbacks hold the call alive through a shared_ptr.
#pragma once

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "src/http/exchange.h"

namespace lattice::web {

using Headers = std::vector<std::pair<std::string, std::string>>;

class ApiCall {
 public:
  ApiCall(std::shared_ptr<http::Exchange> exchange, std::map<std::string, std::string> query,
          std::string token, bool by_cookie);

  const http::Request& request() const { return exchange_->request(); }
  const std::shared_ptr<http::Exchange>& exchange() const { return exchange_; }
  // The route's {parameters}, in order, percent-decoded.
  const std::vector<std::string>& params() const { return params_; }
  void set_params(std::vector<std::string> params) { params_ = std::move(params); }
  const std::map<std::string, std::string>& query() const { return query_; }
  bool HasQuery(const std::string& name) const { return query_.count(name) > 0; }
  std::string Query(const std::string& name, std::string fallback = "") const;

  // The bearer token or session cookie the request carried ("" when none).
  const std::string& token() const { return token_; }
  bool by_cookie() const { return by_cookie_; }

  void Json(int status, const nlohmann::json& body, Headers headers = {});
  void Bytes(int status, std::string body, std::string content_type, Headers headers = {});
  void Empty(int status, Headers headers = {});
  void Fail(int status, std::string detail);
  void FailWithHeaders(int status, std::string detail, Headers headers);
  // A kernel error as the matching HTTP problem (401, 403, 404, 400, 409, 429, 503, ...).
  void Fail(const grpc::Status& status);
  void Fail(const absl::Status& status);

 private:
  std::shared_ptr<http::Exchange> exchange_;
  std::map<std::string, std::string> query_;
  std::string token_;
  bool by_cookie_;
  std::vector<std::string> params_;
};

// The HTTP status for a kernel (gRPC) status code.
int HttpStatusOf(grpc::StatusCode code);

}  // namespace lattice::web
