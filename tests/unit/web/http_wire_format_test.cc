// Problem documents and response serialization, without sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "src/http/problem.h"
#include "src/http/request.h"
#include "src/http/wire_format.h"

namespace lattice::web::http {
namespace {

TEST(Problem, HasTheRfc9457MembersAndExtras) {
  Response response =
      Problem(409, "the key changed since you read it", {{"heads", {"ab", "cd"}}, {"status", 200}});
  EXPECT_EQ(response.status, 409);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "application/problem+json");
  auto doc = nlohmann::json::parse(response.body);
  EXPECT_EQ(doc["type"], "about:blank");
  EXPECT_EQ(doc["title"], "Conflict");
  EXPECT_EQ(doc["status"], 409);  // an extra cannot contradict the response
  EXPECT_EQ(doc["detail"], "the key changed since you read it");
  EXPECT_EQ(doc["heads"], nlohmann::json({"ab", "cd"}));
}

TEST(Problem, TitleAndTypeCanBeGiven) {
  auto doc = nlohmann::json::parse(
      Problem(403, "no", {{"type", "https://lattice.example/problems/scope"}}, "Out of scope")
          .body);
  EXPECT_EQ(doc["type"], "https://lattice.example/problems/scope");
  EXPECT_EQ(doc["title"], "Out of scope");
}

TEST(Problem, InvalidUtf8InTheDetailDoesNotThrow) {
  auto doc = nlohmann::json::parse(Problem(400, "bad \xff byte").body);
  EXPECT_EQ(doc["status"], 400);
}

TEST(WireFormat, FramingHeadersAreTheServersAndInjectionIsDropped) {
  Response response;
  response.status = 201;
  response.headers = {{"Content-Length", "999"},
                      {"X-Good", "yes"},
                      {"X-Bad", "a\r\nSet-Cookie: stolen=1"},
                      {"Bad Name", "x"},
                      {"Connection", "keep-alive"}};
  response.body = "hello";
  std::string wire = SerializeResponse(response, WireContext{});
  EXPECT_EQ(wire.rfind("HTTP/1.1 201 Created\r\nServer: lattice-web\r\nDate: ", 0), 0u) << wire;
  EXPECT_NE(wire.find("X-Good: yes\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("stolen"), std::string::npos);
  EXPECT_EQ(wire.find("Bad Name"), std::string::npos);
  EXPECT_EQ(wire.find("999"), std::string::npos);
  EXPECT_EQ(wire.find("keep-alive"), std::string::npos);
  EXPECT_NE(wire.find("Content-Length: 5\r\n\r\nhello"), std::string::npos) << wire;
}

TEST(WireFormat, BodylessStatusesHeadAndStreams) {
  Response no_content;
  no_content.status = 204;
  no_content.body = "ignored";
  std::string wire = SerializeResponse(no_content, WireContext{});
  EXPECT_EQ(wire.find("Content-Length"), std::string::npos);
  EXPECT_EQ(wire.find("ignored"), std::string::npos);

  Response ok;
  ok.body = "12345";
  WireContext head;
  head.head_request = true;
  wire = SerializeResponse(ok, head);
  EXPECT_NE(wire.find("Content-Length: 5\r\n\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");

  WireContext streamed;
  streamed.streamed = true;
  streamed.close = true;
  wire = SerializeResponse(ok, streamed);
  EXPECT_EQ(wire.find("Content-Length"), std::string::npos);
  EXPECT_NE(wire.find("Connection: close\r\n\r\n"), std::string::npos);

  Response odd;
  odd.status = 101;
  EXPECT_EQ(SerializeResponse(odd, WireContext{}).rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST(WireFormat, HttpDateIsTheImfFixdate) {
  // 1994-11-06 08:49:37 UTC, RFC 9110's example.
  auto when = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(HttpDate(when), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(Request, HeaderLookupIsCaseInsensitiveAndFindsTheFirst) {
  Request request;
  request.headers = {{"Accept", "a"}, {"ACCEPT", "b"}};
  EXPECT_EQ(request.Header("accept"), "a");
  EXPECT_FALSE(request.Header("Accept-Encoding"));
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ReasonPhrase(799), "");
}

}  // namespace
}  // namespace lattice::web::http
