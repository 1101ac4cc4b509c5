// The HTTP server over real TCP on 127.0.0.1: framing, limits, timeouts, streams and proxies.
#include "src/http/server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http_test_client.h"

namespace lattice::web::http {
namespace {

using namespace std::chrono_literals;
using testing::GetRequest;
using testing::TestClient;
using testing::TestResponse;
using testing::WaitFor;

// Answers every request with "<method> <path>?<query> from <client> body=<body>".
void EchoHandler(std::shared_ptr<Exchange> exchange) {
  const Request& request = exchange->request();
  Response response;
  response.headers.emplace_back("Content-Type", "text/plain");
  response.body = request.method + " " + request.path + "?" + request.query + " from " +
                  request.client_address + " body=" + request.body;
  exchange->Respond(std::move(response));
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.port = 0;
  return options;
}

// A started server on a free port of 127.0.0.1.
std::unique_ptr<Server> StartServer(ServerOptions options, Handler handler = EchoHandler) {
  auto server = std::make_unique<Server>(std::move(options), std::move(handler));
  absl::Status status = server->Start();
  EXPECT_TRUE(status.ok()) << status;
  return server;
}

TEST(HttpServer, KeepAliveAnswersTwoRequestsOnOneConnection) {
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  ASSERT_TRUE(client.connected());

  ASSERT_TRUE(client.Send(GetRequest("/first?a=1")));
  auto first = client.ReadResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "GET /first?a=1 from 127.0.0.1 body=");
  EXPECT_EQ(first->Header("Server"), "lattice-web");
  EXPECT_TRUE(first->Header("Date"));
  EXPECT_FALSE(first->Header("Connection"));

  ASSERT_TRUE(client.Send("PUT /second HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"));
  auto second = client.ReadResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "PUT /second? from 127.0.0.1 body=hello");
  EXPECT_EQ(server->connections(), 1u);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/1") + GetRequest("/2") + GetRequest("/3")));
  for (const char* path : {"/1", "/2", "/3"}) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, std::string("GET ") + path + "? from 127.0.0.1 body=");
  }
}

TEST(HttpServer, Http10ConnectionIsClosedAfterOneAnswer) {
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  ASSERT_TRUE(client.Send("GET /old HTTP/1.0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
}

}  // namespace
}  // namespace lattice::web::http
