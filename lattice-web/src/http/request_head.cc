// Request head checks and conversion to Request.
#include "src/http/request_head.h"

#include <fmt/format.h>

#include "src/http/problem.h"

namespace lattice::web::http {
namespace {

namespace beast_http = boost::beast::http;

std::string_view View(boost::beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool StartsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoringCase(s.substr(0, prefix.size()), prefix);
}

// The length of "http://authority" in an absolute-form target, or 0 when it is not one.
size_t AbsoluteFormPrefix(std::string_view target) {
  size_t scheme = StartsWithIgnoringCase(target, "http://")    ? 7
                  : StartsWithIgnoringCase(target, "https://") ? 8
                                                               : 0;
  if (scheme == 0) return 0;
  size_t end = target.find_first_of("/?", scheme);
  if (end == scheme) return 0;  // no authority
  return end == std::string_view::npos ? target.size() : end;
}

std::string TrimmedLower(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

HeadVerdict CheckRequestHead(const beast_http::request_header<>& head, bool body_follows) {
  HeadVerdict verdict;
  auto refuse = [&](int status, std::string detail) {
    verdict.refusal = Problem(status, std::move(detail));
    return verdict;
  };

  size_t hosts = head.count(beast_http::field::host);
  if (head.version() >= 11 && hosts != 1) {
    return refuse(400, hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                  : "the request has more than one Host header");
  }

  std::string_view target = View(head.target());
  bool origin_form = !target.empty() && target.front() == '/';
  bool asterisk = target == "*" && head.method() == beast_http::verb::options;
  if (!origin_form && !asterisk && AbsoluteFormPrefix(target) == 0) {
    return refuse(400, "the request target must be a path starting with '/'");
  }

  // Only "chunked" delimits a request body we can read; anything else (gzip, a chain ending in
  // something else) leaves its length unknown, and reading on would desynchronize the stream.
  std::string codings;
  for (const auto& field : head) {
    if (field.name() != beast_http::field::transfer_encoding) continue;
    if (!codings.empty()) codings += ",";
    codings += TrimmedLower(View(field.value()));
  }
  if (!codings.empty() && codings != "chunked") {
    return refuse(501, fmt::format("transfer coding \"{}\" is not supported; send the body with "
                                   "Content-Length or \"Transfer-Encoding: chunked\"",
                                   codings));
  }

  if (auto expect = head.find(beast_http::field::expect); expect != head.end()) {
    if (head.count(beast_http::field::expect) > 1 ||
        TrimmedLower(View(expect->value())) != "100-continue") {
      return refuse(417, "only \"Expect: 100-continue\" is supported");
    }
    // An HTTP/1.0 client does not know 100 Continue (RFC 9110 §10.1.1).
    verdict.send_continue = body_follows && head.version() >= 11;
  }
  return verdict;
}

Request MakeRequest(ParsedRequest&& message, const boost::asio::ip::address& peer,
                    const TrustedProxies& proxies) {
  Request request;
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  request.version = message.version() >= 11 ? 11 : 10;
  std::string_view target = request.target;
  if (size_t authority = AbsoluteFormPrefix(target); authority > 0) {
    target.remove_prefix(authority);
  }
  size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (request.path.empty()) request.path = "/";  // "http://host" and "http://host?q"
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.headers.reserve(std::distance(message.begin(), message.end()));
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(View(field.name_string())),
                                 std::string(View(field.value())));
  }
  request.body = std::move(message.body());
  ResolveClient(proxies, peer, request);
  return request;
}

}  // namespace lattice::web::http
