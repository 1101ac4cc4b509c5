// The HTTP server over real TCP on 127.0.0.1: framing, limits, timeouts, streams and proxies.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_test_client.h"
#include "src/http/server.h"

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

TEST(HttpServer, HeadAnswerHasLengthButNoBody) {
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  ASSERT_TRUE(client.Send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" + GetRequest("/after")));
  ASSERT_TRUE(client.ReadUntil("GET /after"));
  std::string received = client.received();
  EXPECT_NE(received.find("Content-Length: 29\r\n"), std::string::npos) << received;
  EXPECT_EQ(received.find("HEAD /x"), std::string::npos) << "a HEAD answer carried a body";
}

TEST(HttpServer, HeaderOverTheLimitIs431) {
  ServerOptions options = TestOptions();
  options.max_header_bytes = 1024;
  auto server = StartServer(options);
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/", {"X-Big: " + std::string(2000, 'a')})));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->Header("Content-Type"), "application/problem+json");
  auto problem = nlohmann::json::parse(response->body);
  EXPECT_EQ(problem["status"], 431);
  EXPECT_NE(problem["detail"].get<std::string>().find("1024"), std::string::npos);
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServer, ContentLengthOverTheLimitIs413WithoutReadingTheBody) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1000;
  auto server = StartServer(options);
  TestClient client(server->port());
  // Announces 100 MB and sends none of it: the answer must not wait for the body.
  ASSERT_TRUE(client.Send("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(nlohmann::json::parse(response->body)["status"], 413);
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServer, ChunkedBodyOverTheLimitIs413) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1000;
  auto server = StartServer(options);
  TestClient client(server->port());
  std::string chunk(600, 'x');
  ASSERT_TRUE(
      client.Send("PUT /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "258\r\n" +
                  chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

TEST(HttpServer, ChunkedBodyWithinTheLimitIsRead) {
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  ASSERT_TRUE(
      client.Send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST /c? from 127.0.0.1 body=abcde");
}

TEST(HttpServer, GarbageIs400NamingTheProblem) {
  auto server = StartServer(TestOptions());
  struct Case {
    std::string bytes;
    std::string detail_part;
  };
  std::vector<Case> cases = {
      {"\x16\x03\x01\x02\x00 hello\r\n\r\n", "malformed request"},
      {"GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n", "malformed request"},
      {"GET / HTTP/1.1\r\n\r\n", "Host"},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Host"},
      {"GET nopath HTTP/1.1\r\nHost: t\r\n\r\n", "target"},
      {"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "malformed"},
  };
  for (const Case& c : cases) {
    TestClient client(server->port());
    ASSERT_TRUE(client.Send(c.bytes));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response) << c.bytes;
    EXPECT_EQ(response->status, 400) << c.bytes;
    auto problem = nlohmann::json::parse(response->body);
    EXPECT_EQ(problem["type"], "about:blank");
    EXPECT_EQ(problem["title"], "Bad Request");
    EXPECT_NE(problem["detail"].get<std::string>().find(c.detail_part), std::string::npos)
        << problem.dump();
    EXPECT_TRUE(client.WaitClosed()) << c.bytes;
  }
}

TEST(HttpServer, UnknownTransferCodingIs501AndUnknownExpectIs417) {
  auto server = StartServer(TestOptions());
  {
    TestClient client(server->port());
    ASSERT_TRUE(client.Send("PUT / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxx"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 501);
  }
  {
    TestClient client(server->port());
    ASSERT_TRUE(
        client.Send("PUT / HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 417);
  }
}

TEST(HttpServer, ExpectContinueIsAnsweredBeforeTheBody) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1000;
  auto server = StartServer(options);
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(
      "PUT /k HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.Send("hello"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "PUT /k? from 127.0.0.1 body=hello");

  // Too large: refused at once, no 100 Continue.
  TestClient big(server->port());
  ASSERT_TRUE(big.Send(
      "PUT /k HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
  auto refused = big.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
}

TEST(HttpServer, SlowLorisGets408WhileOthersAreServed) {
  ServerOptions options = TestOptions();
  options.request_timeout = 300ms;
  auto server = StartServer(options);
  TestClient loris(server->port());
  ASSERT_TRUE(loris.Send("GET / HTTP/1.1\r\nHost: t\r\nX-Half: "));

  TestClient other(server->port());
  ASSERT_TRUE(other.Send(GetRequest("/meanwhile")));
  auto served = other.ReadResponse();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);

  auto response = loris.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(nlohmann::json::parse(response->body)["status"], 408);
  EXPECT_TRUE(loris.WaitClosed());
}

TEST(HttpServer, RequestTimeoutCoversTheWholeRequestNotEachRead) {
  ServerOptions options = TestOptions();
  options.request_timeout = 300ms;
  auto server = StartServer(options);
  TestClient loris(server->port());
  auto start = std::chrono::steady_clock::now();
  // One byte every 50 ms never lets a single read wait long, but the request takes too long.
  std::string request = GetRequest("/", {"X-Pad: " + std::string(40, 'p')});
  bool refused = false;
  for (char c : request) {
    if (!loris.Send(std::string_view(&c, 1))) {
      refused = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
    if (std::chrono::steady_clock::now() - start > 2s) break;
  }
  auto response = loris.ReadResponse();
  ASSERT_TRUE(response) << "refused while sending: " << refused;
  EXPECT_EQ(response->status, 408);
}

TEST(HttpServer, IdleNewConnectionIsClosedAfterTheRequestTimeout) {
  ServerOptions options = TestOptions();
  options.request_timeout = 200ms;
  auto server = StartServer(options);
  TestClient silent(server->port());
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_TRUE(WaitFor([&] { return server->connections() == 0; }));
}

TEST(HttpServer, KeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  ServerOptions options = TestOptions();
  options.idle_timeout = 200ms;
  auto server = StartServer(options);
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/")));
  ASSERT_TRUE(client.ReadResponse());
  EXPECT_TRUE(client.WaitClosed());
}

TEST(HttpServer, ConnectionsPastTheLimitGet503) {
  ServerOptions options = TestOptions();
  options.max_connections = 2;
  auto server = StartServer(options);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 2; ++i) {
    clients.push_back(std::make_unique<TestClient>(server->port()));
    ASSERT_TRUE(clients.back()->Send(GetRequest("/")));
    ASSERT_TRUE(clients.back()->ReadResponse());
  }
  EXPECT_EQ(server->connections(), 2u);

  TestClient third(server->port());
  auto refused = third.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(nlohmann::json::parse(refused->body)["status"], 503);
  EXPECT_TRUE(third.WaitClosed());

  clients[0]->Close();
  ASSERT_TRUE(WaitFor([&] { return server->connections() == 1; }));
  TestClient fourth(server->port());
  ASSERT_TRUE(fourth.Send(GetRequest("/")));
  auto served = fourth.ReadResponse();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
}

TEST(HttpServer, HandlerExceptionIs500AndTheConnectionStaysUsable) {
  auto server = StartServer(TestOptions(), [](std::shared_ptr<Exchange> exchange) {
    if (exchange->request().path == "/throw") throw std::runtime_error("boom");
    EchoHandler(std::move(exchange));
  });
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/throw")));
  auto failed = client.ReadResponse();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->Header("Content-Type"), "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(failed->body)["title"], "Internal Server Error");
  ASSERT_TRUE(client.Send(GetRequest("/fine")));
  auto fine = client.ReadResponse();
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
}

TEST(HttpServer, ExchangeDroppedWithoutAnswerIs500) {
  auto server = StartServer(TestOptions(), [](std::shared_ptr<Exchange>) {});
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
}

// Holds exchanges for the test to answer later, from threads of its own.
struct PendingExchanges {
  std::mutex mutex;
  std::vector<std::shared_ptr<Exchange>> exchanges;

  Handler MakeHandler() {
    return [this](std::shared_ptr<Exchange> exchange) {
      std::lock_guard lock(mutex);
      exchanges.push_back(std::move(exchange));
    };
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return exchanges.size();
  }
};

TEST(HttpServer, HandlersAnswerLaterFromOtherThreads) {
  PendingExchanges pending;
  ServerOptions options = TestOptions();
  options.threads = 1;
  auto server = StartServer(options, pending.MakeHandler());
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<TestClient>(server->port()));
    ASSERT_TRUE(clients.back()->Send(GetRequest("/" + std::to_string(i))));
  }
  // All three are pending at once on one io thread.
  ASSERT_TRUE(WaitFor([&] { return pending.size() == 3; }));
  std::vector<std::thread> answerers;
  for (int i = 2; i >= 0; --i) {
    answerers.emplace_back([&, i] {
      std::shared_ptr<Exchange> exchange;
      {
        std::lock_guard lock(pending.mutex);
        exchange = pending.exchanges[i];
      }
      Response response;
      response.body = "answer to " + exchange->request().path;
      exchange->Respond(std::move(response));
      exchange->Respond(Problem(500, "a second answer is ignored"));
    });
  }
  for (auto& thread : answerers) thread.join();
  for (auto& client : clients) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.rfind("answer to /", 0), 0u) << response->body;
  }
  for (int i = 0; i < 3; ++i) {
    std::lock_guard lock(pending.mutex);
    EXPECT_EQ(clients[i]->received(), "");  // nothing after the single answer
  }
  std::lock_guard lock(pending.mutex);
  pending.exchanges.clear();
}

// Starts an event stream for every request and keeps it for the test.
struct OpenStreams {
  std::mutex mutex;
  std::vector<std::shared_ptr<Stream>> streams;
  std::atomic<int> closed{0};

  Handler MakeHandler() {
    return [this](std::shared_ptr<Exchange> exchange) {
      if (exchange->request().path != "/events") {
        EchoHandler(std::move(exchange));
        return;
      }
      Response head;
      head.headers.emplace_back("Content-Type", "text/event-stream");
      head.headers.emplace_back("Cache-Control", "no-store");
      auto stream = exchange->StartStream(std::move(head));
      stream->OnClosed([this] { closed.fetch_add(1); });
      std::lock_guard lock(mutex);
      streams.push_back(std::move(stream));
    };
  }
  std::shared_ptr<Stream> Get(size_t i) {
    std::lock_guard lock(mutex);
    return i < streams.size() ? streams[i] : nullptr;
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return streams.size();
  }
};

TEST(HttpServer, StreamDeliversChunksWrittenFromAnotherThread) {
  OpenStreams streams;
  auto server = StartServer(TestOptions(), streams.MakeHandler());
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/events")));
  ASSERT_TRUE(WaitFor([&] { return streams.size() == 1; }));
  std::thread writer([stream = streams.Get(0)] {
    for (int i = 0; i < 5; ++i)
      EXPECT_TRUE(stream->Write("id: " + std::to_string(i) + "\ndata: x\n\n"));
    stream->Close();
  });
  writer.join();
  auto response = client.ReadResponse();  // no length: the body ends with the connection
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Type"), "text/event-stream");
  EXPECT_FALSE(response->Header("Content-Length"));
  EXPECT_EQ(
      response->body,
      "id: 0\ndata: x\n\nid: 1\ndata: x\n\nid: 2\ndata: x\n\nid: 3\ndata: x\n\nid: 4\ndata: x\n\n");
  EXPECT_TRUE(WaitFor([&] { return streams.closed == 1; }));
  EXPECT_FALSE(streams.Get(0)->Write("late"));
}

TEST(HttpServer, StreamOnClosedFiresWhenTheClientDisconnects) {
  OpenStreams streams;
  auto server = StartServer(TestOptions(), streams.MakeHandler());
  TestClient client(server->port());
  ASSERT_TRUE(client.Send(GetRequest("/events")));
  ASSERT_TRUE(client.ReadUntil("\r\n\r\n"));
  ASSERT_TRUE(streams.Get(0)->Write("data: hi\n\n"));
  ASSERT_TRUE(client.ReadUntil("data: hi"));
  EXPECT_EQ(streams.closed, 0);
  client.Close();
  EXPECT_TRUE(WaitFor([&] { return streams.closed == 1; }));
  EXPECT_TRUE(WaitFor([&] { return server->connections() == 0; }));
  EXPECT_FALSE(streams.Get(0)->Write("data: gone\n\n"));
  // Registered after the fact: called at once.
  bool late = false;
  streams.Get(0)->OnClosed([&] { late = true; });
  EXPECT_TRUE(late);
}

TEST(HttpServer, ClientThatNeverReadsItsStreamIsDroppedWhileOthersAreServed) {
  OpenStreams streams;
  ServerOptions options = TestOptions();
  options.max_stream_buffer_bytes = 64 * 1024;
  auto server = StartServer(options, streams.MakeHandler());
  TestClient sleeper(server->port());
  ASSERT_TRUE(sleeper.Send(GetRequest("/events")));
  ASSERT_TRUE(WaitFor([&] { return streams.size() == 1; }));
  auto stream = streams.Get(0);
  // Writes until the socket buffers are full and the queue reaches its limit.
  std::string event = "data: " + std::string(16 * 1024, 'x') + "\n\n";
  size_t written = 0;
  bool refused = false;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!stream->Write(event)) {
      refused = true;
      break;
    }
    written += event.size();
    EXPECT_LE(stream->buffered_bytes(), options.max_stream_buffer_bytes);
  }
  ASSERT_TRUE(refused) << "wrote " << written << " bytes without reaching the limit";
  EXPECT_TRUE(WaitFor([&] { return streams.closed == 1; }));

  TestClient other(server->port());
  ASSERT_TRUE(other.Send(GetRequest("/other")));
  auto response = other.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, StopClosesStreamsAndConnections) {
  OpenStreams streams;
  auto server = StartServer(TestOptions(), streams.MakeHandler());
  TestClient streaming(server->port());
  ASSERT_TRUE(streaming.Send(GetRequest("/events")));
  TestClient idle(server->port());
  ASSERT_TRUE(idle.Send(GetRequest("/")));
  ASSERT_TRUE(idle.ReadResponse());
  ASSERT_TRUE(WaitFor([&] { return streams.size() == 1; }));
  server->Stop();
  EXPECT_EQ(streams.closed, 1);
  EXPECT_TRUE(streaming.WaitClosed());
  EXPECT_TRUE(idle.WaitClosed());
}

// Answers with the client, scheme and host the server resolved.
void WhoHandler(std::shared_ptr<Exchange> exchange) {
  const Request& request = exchange->request();
  Response response;
  response.body = nlohmann::json{
      {"client", request.client_address},
      {"scheme", request.scheme},
      {"host",
       request.host}}.dump();
  exchange->Respond(std::move(response));
}

nlohmann::json AskWho(uint16_t port, const std::string& source_ip,
                      const std::vector<std::string>& headers) {
  TestClient client(port, source_ip);
  EXPECT_TRUE(client.connected()) << source_ip;
  EXPECT_TRUE(client.Send(GetRequest("/who", headers)));
  auto response = client.ReadResponse();
  EXPECT_TRUE(response);
  return response ? nlohmann::json::parse(response->body) : nlohmann::json();
}

TEST(HttpServer, ForwardedHeadersAreHonouredOnlyFromTrustedProxies) {
  ServerOptions options = TestOptions();
  options.trusted_proxies = {"127.0.0.2", "10.0.0.0/8"};
  auto server = StartServer(options, WhoHandler);
  std::vector<std::string> forwarded = {"X-Forwarded-For: 198.51.100.1, 203.0.113.7, 10.1.2.3",
                                        "X-Forwarded-Proto: https",
                                        "X-Forwarded-Host: lattice.example:443"};
  // From the trusted proxy: the right-most address that is not a trusted proxy.
  auto trusted = AskWho(server->port(), "127.0.0.2", forwarded);
  EXPECT_EQ(trusted["client"], "203.0.113.7");
  EXPECT_EQ(trusted["scheme"], "https");
  EXPECT_EQ(trusted["host"], "lattice.example:443");
  // From anyone else the headers are ignored.
  auto untrusted = AskWho(server->port(), "127.0.0.3", forwarded);
  EXPECT_EQ(untrusted["client"], "127.0.0.3");
  EXPECT_EQ(untrusted["scheme"], "http");
  EXPECT_EQ(untrusted["host"], "test");
  // A trusted proxy without the headers: the proxy itself.
  auto direct = AskWho(server->port(), "127.0.0.2", {});
  EXPECT_EQ(direct["client"], "127.0.0.2");
  // Every hop trusted: the furthest one.
  auto all_trusted = AskWho(server->port(), "127.0.0.2", {"X-Forwarded-For: 10.9.9.9, 10.1.1.1"});
  EXPECT_EQ(all_trusted["client"], "10.9.9.9");
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// The process's resident set size, from /proc/self/statm.
size_t ResidentBytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long pages_total = 0, pages_resident = 0;
  int fields = std::fscanf(statm, "%lu %lu", &pages_total, &pages_resident);
  std::fclose(statm);
  return fields == 2 ? pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(HttpServer, ThousandIdleConnectionsDoNotStopANewRequest) {
  // Two descriptors per connection in this process (client and server side).
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < 2200) GTEST_SKIP() << "needs 2200 file descriptors, has " << limit.rlim_cur;

  OpenStreams streams;
  ServerOptions options = TestOptions();
  options.threads = 1;
  auto server = StartServer(options, streams.MakeHandler());
  size_t rss_before = ResidentBytes();
  constexpr int kIdle = 1000;
  std::vector<std::unique_ptr<TestClient>> idle;
  idle.reserve(kIdle);
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<TestClient>(server->port()));
    ASSERT_TRUE(idle.back()->connected()) << i;
    // Half are kept-alive after an answer, half hold an event stream open.
    ASSERT_TRUE(idle.back()->Send(GetRequest(i % 2 == 0 ? "/events" : "/")));
  }
  for (int i = 1; i < kIdle; i += 2) ASSERT_TRUE(idle[i]->ReadResponse()) << i;
  ASSERT_TRUE(WaitFor([&] { return streams.size() == kIdle / 2; }));
  EXPECT_EQ(server->connections(), static_cast<size_t>(kIdle));
  // What an idle connection costs the process (server and this test's client together).
  size_t rss_after = ResidentBytes();
  size_t per_connection = rss_after > rss_before ? (rss_after - rss_before) / kIdle : 0;
  RecordProperty("resident_bytes_per_idle_connection", std::to_string(per_connection));
  if (!kSanitized) {
    EXPECT_LT(per_connection, 64u * 1024);
  }

  auto start = std::chrono::steady_clock::now();
  TestClient fresh(server->port());
  ASSERT_TRUE(fresh.Send(GetRequest("/fresh")));
  auto response = fresh.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  // The streams are live too.
  ASSERT_TRUE(streams.Get(0)->Write("data: still here\n\n"));
  EXPECT_TRUE(idle[0]->ReadUntil("data: still here"));
}

TEST(HttpServer, StartErrorsNameTheAddressOrTheProxyEntry) {
  auto first = StartServer(TestOptions());
  ServerOptions taken = TestOptions();
  taken.port = first->port();
  Server second(taken, EchoHandler);
  absl::Status status = second.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("127.0.0.1:" + std::to_string(first->port())),
            std::string::npos)
      << status;

  ServerOptions bad_proxy = TestOptions();
  bad_proxy.trusted_proxies = {"proxy.internal"};
  Server third(bad_proxy, EchoHandler);
  status = third.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("proxy.internal"), std::string::npos) << status;
}

TEST(HttpServer, ConcurrentClientsOnSeveralIoThreads) {
  ServerOptions options = TestOptions();
  options.threads = 4;
  // Every other request is answered from a thread of its own, as kernel callbacks would.
  auto server = StartServer(options, [](std::shared_ptr<Exchange> exchange) {
    if (exchange->request().query == "later") {
      std::thread([exchange] { EchoHandler(exchange); }).detach();
    } else {
      EchoHandler(std::move(exchange));
    }
  });
  constexpr int kClients = 8;
  constexpr int kRequests = 40;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      TestClient client(server->port());
      for (int i = 0; i < kRequests; ++i) {
        std::string path = "/c" + std::to_string(c) + "/" + std::to_string(i);
        std::string query = i % 2 ? "later" : "now";
        if (!client.Send(GetRequest(path + "?" + query))) return;
        auto response = client.ReadResponse();
        if (!response || response->body != "GET " + path + "?" + query + " from 127.0.0.1 body=") {
          return;
        }
        answered.fetch_add(1);
      }
    });
  }
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(answered, kClients * kRequests);
}


TEST(HttpServer, LargeBodiesArriveWholeBothWays) {
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  std::string value(4 * 1024 * 1024, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 131 % 251);
  // Sent from another thread: the server answers only once it has it all, and the answer is
  // larger than the socket buffers.
  std::thread sender([&] {
    EXPECT_TRUE(client.Send("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                            std::to_string(value.size()) + "\r\n\r\n" + value));
  });
  auto response = client.ReadResponse();
  sender.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "PUT /big? from 127.0.0.1 body=" + value);
}


TEST(HttpServer, StopDuringARequestAndAPendingAnswer) {
  PendingExchanges pending;
  auto server = StartServer(TestOptions(), pending.MakeHandler());
  TestClient half(server->port());
  ASSERT_TRUE(half.Send("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  TestClient waiting(server->port());
  ASSERT_TRUE(waiting.Send(GetRequest("/pending")));
  ASSERT_TRUE(WaitFor([&] { return pending.size() == 1; }));
  server->Stop();
  EXPECT_TRUE(half.WaitClosed());
  EXPECT_TRUE(waiting.WaitClosed());
  // An answer after Stop goes nowhere, and neither it nor the server's end crashes.
  std::lock_guard lock(pending.mutex);
  pending.exchanges[0]->Respond(Response{});
  server.reset();
  pending.exchanges.clear();
}


TEST(HttpServer, DualStackListenerSeesIpv4ClientsAsIpv4) {
  ServerOptions options = TestOptions();
  options.host = "::";
  options.trusted_proxies = {"127.0.0.2"};
  auto server = std::make_unique<Server>(options, WhoHandler);
  if (absl::Status status = server->Start(); !status.ok()) {
    GTEST_SKIP() << "no IPv6 here: " << status;
  }
  // The peer is "::ffff:127.0.0.x" on the socket; handlers and the proxy list see IPv4.
  EXPECT_EQ(AskWho(server->port(), "127.0.0.3", {})["client"], "127.0.0.3");
  EXPECT_EQ(AskWho(server->port(), "127.0.0.2", {"X-Forwarded-For: 203.0.113.9"})["client"],
            "203.0.113.9");
}


TEST(HttpServer, OversizedBodySentWithoutWaitingStillGets413) {
  // curl without "Expect: 100-continue" sends the whole body at once; the 413 must reach it
  // rather than a reset from closing on unread bytes.
  auto server = StartServer(TestOptions());
  TestClient client(server->port());
  std::string body(9 * 1024 * 1024, 'x');
  std::thread sender([&] {
    client.Send("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body);  // may fail once the server has closed: that is fine
  });
  auto response = client.ReadResponse();
  sender.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

}  // namespace
}  // namespace lattice::web::http
