// Reason phrases, from Beast's table of registered status codes.
#include "src/http/response.h"

// Beast 1.74's status.hpp uses std::ostream without including it.
#include <ostream>

#include <boost/beast/http/status.hpp>

namespace lattice::web::http {

std::string_view ReasonPhrase(int status) {
  if (status < 100 || status > 999) return "";
  auto code = boost::beast::http::int_to_status(static_cast<unsigned>(status));
  if (code == boost::beast::http::status::unknown) return "";
  auto reason = boost::beast::http::obsolete_reason(code);
  return std::string_view(reason.data(), reason.size());
}

}  // namespace lattice::web::http
