// What the server accepts of a request beyond what Beast's parser checks, and how a parsed
// request becomes the Request handlers see. Pure functions: the server and the fuzz target
// run the same code.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "src/http/forwarded.h"
#include "src/http/request.h"
#include "src/http/response.h"

namespace lattice::web::http {

using ParsedRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct HeadVerdict {
  std::optional<Response> refusal;  // a problem to answer, after which the connection closes
  bool send_continue = false;       // the client waits for "100 Continue" before its body
};

// Checks a request head as soon as it is read, before any of its body:
// - HTTP/1.1 needs exactly one Host header (RFC 9112 §3.2) → 400;
// - the target is origin-form ("/..."), "*" for OPTIONS, or absolute-form → else 400;
// - Transfer-Encoding other than exactly "chunked" → 501 (the body could not be delimited);
// - Expect other than "100-continue" → 417; "100-continue" with a body to come → send_continue.
// `body_follows`: the parser still has body bytes to read.
HeadVerdict CheckRequestHead(const boost::beast::http::request_header<>& head, bool body_follows);

// Builds the Request for a complete parsed message from `peer`.
Request MakeRequest(ParsedRequest&& message, const boost::asio::ip::address& peer,
                    const TrustedProxies& proxies);

}  // namespace lattice::web::http
