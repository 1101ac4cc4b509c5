// RFC 9457 problem documents: how every lattice-web error is answered.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "src/http/response.h"

namespace lattice::web::http {

// A response with an application/problem+json body {"type","title","status","detail", extra
// members...}. type defaults to "about:blank" (extra may name another); title defaults to the
// reason phrase of the status; "status" always equals `status`.
Response Problem(int status, std::string detail, nlohmann::json extra = nlohmann::json::object(),
                 std::string title = "");

}  // namespace lattice::web::http
