// The pure parts of lattice-web's API layer: event positions, percent-encoding, JSON byte
// fields, routing and the session cookie, with a fake exchange in place of HTTP.
#include <gtest/gtest.h>

#include "src/api/percent.h"
#include "src/api/router.h"
#include "src/api/session_cookie.h"
#include "src/http/exchange.h"
#include "src/json/json_codec.h"
#include "src/kernel/event_position.h"

namespace lattice::web {
namespace {

TEST(EventPosition, IdsRoundTripAndRejectGarbage) {
  EXPECT_EQ(EventPosition::Parse("42"), (EventPosition{42, 0}));
  EXPECT_EQ(EventPosition::Parse("42.3"), (EventPosition{41, 3}));
  EXPECT_EQ((EventPosition{41, 3}).ToId(), "42.3");
  EXPECT_EQ((EventPosition{0, 0}).ToId(), "0");
  for (const char* bad : {"", "x", "4x", "-1", "42.", "42.0", "0.1", ".3", "1.2.3",
                          "99999999999999999999999"}) {
    EXPECT_FALSE(EventPosition::Parse(bad).has_value()) << bad;
  }
}

TEST(Percent, DecodesStrictlyAndEncodesEveryReservedByte) {
  EXPECT_EQ(PercentDecode("a%2Fb%20c", false), "a/b c");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%", false).has_value());
  EXPECT_FALSE(PercentDecode("%4", false).has_value());
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(PercentDecode(PercentEncode(all), false), all);
  auto query = ParseQuery("prefix=a%2Fb&inspect&limit=10&limit=20");
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->at("prefix"), "a/b");
  EXPECT_EQ(query->at("inspect"), "");
  EXPECT_EQ(query->at("limit"), "10");
  EXPECT_FALSE(ParseQuery("a=%G0").has_value());
}

TEST(JsonCodec, BytesAreTextWhenUtf8AndAlwaysBase64) {
  nlohmann::json object = nlohmann::json::object();
  SetBytes(object, "value", "h\xc3\xa9");
  EXPECT_EQ(object["value"], "h\xc3\xa9");
  EXPECT_EQ(object["value_base64"], "aMOp");
  nlohmann::json binary = nlohmann::json::object();
  SetBytes(binary, "value", std::string("\xff\x00", 2));
  EXPECT_FALSE(binary.contains("value"));
  auto back = GetBytes(binary, "value");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(**back, std::string("\xff\x00", 2));
  EXPECT_FALSE(GetBytes(nlohmann::json{{"value", "a"}, {"value_base64", "YQ=="}}, "value").ok());
  EXPECT_FALSE(GetBytes(nlohmann::json{{"value_base64", "!!"}}, "value").ok());
  EXPECT_FALSE(GetBytes(nlohmann::json{{"value", 3}}, "value").ok());
  auto parsed = ParseJsonObject("{\"a\": [1,");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("not valid JSON"), absl::string_view::npos);
  EXPECT_FALSE(ParseJsonObject("[1]").ok());
}

class FakeExchange : public http::Exchange {
 public:
  FakeExchange(std::string method, std::string path) {
    request_.method = std::move(method);
    request_.path = std::move(path);
  }
  const http::Request& request() const override { return request_; }
  void Respond(http::Response response) override { answer = std::move(response); }
  std::shared_ptr<http::Stream> StartStream(http::Response) override { return nullptr; }
  http::Request request_;
  http::Response answer;
};

TEST(Router, MatchesDecodedSegmentsAndSays404Or405) {
  Router router;
  std::vector<std::string> seen;
  router.Add("GET", "/api/v1/stores/{store}/keys/{key}", [&](const auto& call) {
    seen = call->params();
    call->Empty(204);
  });
  auto run = [&](const std::string& method, const std::string& path) {
    auto exchange = std::make_shared<FakeExchange>(method, path);
    auto call = std::make_shared<ApiCall>(exchange, std::map<std::string, std::string>(), "", false);
    router.Dispatch(call);
    return exchange->answer;
  };
  EXPECT_EQ(run("GET", "/api/v1/stores/s/keys/a%2Fb%00c").status, 204);
  EXPECT_EQ(seen, (std::vector<std::string>{"s", std::string("a/b\0c", 5)}));
  EXPECT_EQ(run("GET", "/api/v1/stores/s/keys").status, 404);
  http::Response wrong = run("POST", "/api/v1/stores/s/keys/k");
  EXPECT_EQ(wrong.status, 405);
  bool allow = false;
  for (const auto& [name, value] : wrong.headers) allow = allow || (name == "Allow" && value == "GET");
  EXPECT_TRUE(allow);
  EXPECT_EQ(run("GET", "/api/v1/stores/s/keys/%4").status, 400);
}

TEST(SessionCookie, FoundOnlyWhenWellFormedAndOriginChecked) {
  http::Request request;
  request.headers = {{"Cookie", "theme=dark; lattice_session=abc.DEF-1; other=x"}};
  EXPECT_EQ(SessionTokenOf(request), "abc.DEF-1");
  request.headers = {{"cookie", "lattice_session=bad\"value"}};
  EXPECT_FALSE(SessionTokenOf(request).has_value());
  EXPECT_NE(SessionCookie("t", false).find("HttpOnly; SameSite=Strict"), std::string::npos);
  EXPECT_NE(SessionCookie("t", true).find("; Secure"), std::string::npos);
  request.scheme = "http";
  request.host = "127.0.0.1:8470";
  request.headers = {{"Origin", "http://127.0.0.1:8470"}};
  EXPECT_TRUE(IsSameOrigin(request));
  request.headers = {{"Origin", "http://127.0.0.1:8471"}};
  EXPECT_FALSE(IsSameOrigin(request));
  request.headers = {};
  EXPECT_FALSE(IsSameOrigin(request));
}

}  // namespace
}  // namespace lattice::web
