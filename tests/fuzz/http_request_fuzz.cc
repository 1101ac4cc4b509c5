// Fuzzes lattice-web's HTTP server with arbitrary bytes as what a client sends, on both paths
// the server runs them through:
//   1. Beast's request parser with the server's limits, then the server's own head checks and
//      Request construction (X-Forwarded-* from a trusted peer included) — fast and exhaustive;
//   2. the same bytes over a loopback socket to a real Server (one, started once) whose handler
//      answers, streams or throws depending on the path, with the client's half then shut:
//      the connection state machine, limits, 100-continue, pipelining and lingering close.
// Invariants: no crash; everything the server sends is HTTP/1.1 responses; once the client has
// sent everything and shut its side, the server always closes the connection (never hangs).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "src/http/forwarded.h"
#include "src/http/problem.h"
#include "src/http/request_head.h"
#include "src/http/server.h"

namespace {

using namespace lattice::web::http;

constexpr size_t kMaxHeaderBytes = 2048;
constexpr size_t kMaxBodyBytes = 2048;

ServerOptions FuzzOptions() {
  ServerOptions options;
  options.port = 0;
  options.max_header_bytes = kMaxHeaderBytes;
  options.max_body_bytes = kMaxBodyBytes;
  options.max_stream_buffer_bytes = 4096;
  options.request_timeout = std::chrono::milliseconds(3000);
  options.trusted_proxies = {"127.0.0.1", "10.0.0.0/8", "fd00::/8"};
  return options;
}

void Handle(std::shared_ptr<Exchange> exchange) {
  const Request& request = exchange->request();
  if (request.path == "/throw") throw std::runtime_error("fuzz");
  if (request.path == "/drop") return;  // answered 500 when the exchange goes away
  if (request.path == "/stream") {
    Response head;
    head.headers.emplace_back("Content-Type", "text/event-stream");
    auto stream = exchange->StartStream(std::move(head));
    stream->Write("data: " + request.client_address + "\n\n");
    stream->Write(request.body);
    stream->Close();
    return;
  }
  if (request.path == "/later") {
    std::thread([exchange] {
      exchange->Respond(Problem(409, exchange->request().query));
    }).detach();
    return;
  }
  Response response;
  // Echo what a handler would put back into headers, to exercise header sanitizing.
  response.headers.emplace_back("X-Echo", request.query);
  response.headers.emplace_back(request.host.empty() ? "X-Empty" : request.host, "v");
  response.body = request.method + " " + request.target + " " + request.client_address + " " +
                  request.scheme + " " + request.body;
  exchange->Respond(std::move(response));
}

Server& TheServer() {
  static Server* server = [] {
    spdlog::set_level(spdlog::level::off);  // every thrown handler would log a line
    auto* s = new Server(FuzzOptions(), Handle);
    if (!s->Start().ok()) std::abort();
    return s;
  }();
  return *server;
}

void ParseDirectly(std::string_view input) {
  static const TrustedProxies proxies = *TrustedProxies::Parse(FuzzOptions().trusted_proxies);
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t offset = 0;
  bool checked_head = false;
  while (offset < input.size()) {
    size_t used = parser.put(boost::asio::buffer(input.data() + offset, input.size() - offset), ec);
    if (ec == boost::beast::http::error::need_more) break;
    if (ec) return;
    offset += used;
    if (parser.is_header_done() && !checked_head) {
      checked_head = true;
      if (CheckRequestHead(parser.get().base(), !parser.is_done()).refusal) return;
    }
    if (parser.is_done()) break;
    if (used == 0) break;
  }
  if (!parser.is_done()) return;
  auto peer = boost::asio::ip::make_address("127.0.0.1");
  Request request = MakeRequest(parser.release(), peer, proxies);
  if (request.client_address.empty()) std::abort();
  Problem(400, request.target, {{"extra", request.body}});
}

void SendOverLoopback(std::string_view input) {
  uint16_t port = TheServer().port();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();
  // The server may answer and close before reading everything (413, 400): a failed send is fine.
  size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string received;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      std::fprintf(stderr, "the server kept the connection open after the client finished\n");
      std::abort();
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[8192];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;  // closed (or reset after our data went unread)
    if (received.size() < 64) received.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!received.empty() && received.rfind("HTTP/1.1 ", 0) != 0 &&
      received.size() >= std::strlen("HTTP/1.1 ")) {
    std::fprintf(stderr, "the server sent something other than a response\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseDirectly(input);
  SendOverLoopback(input);
  return 0;
}
