// Problem documents (RFC 9457).
#include "src/http/problem.h"

namespace lattice::web::http {

Response Problem(int status, std::string detail, nlohmann::json extra, std::string title) {
  nlohmann::json doc = nlohmann::json::object();
  doc["type"] = "about:blank";
  if (title.empty()) title = std::string(ReasonPhrase(status));
  doc["title"] = std::move(title);
  doc["status"] = status;
  doc["detail"] = std::move(detail);
  if (extra.is_object()) {
    for (auto& [key, value] : extra.items()) {
      if (key == "status") continue;  // the document must agree with the response's status
      doc[key] = value;
    }
  }
  Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/problem+json");
  // A detail may carry bytes the client sent; replace invalid UTF-8 instead of throwing.
  response.body = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace lattice::web::http
