// Trusted proxies and X-Forwarded-* resolution, without sockets.
#include <gtest/gtest.h>

#include "src/http/forwarded.h"

namespace lattice::web::http {
namespace {

namespace ip = boost::asio::ip;

TrustedProxies MustParse(const std::vector<std::string>& entries) {
  auto proxies = TrustedProxies::Parse(entries);
  EXPECT_TRUE(proxies.ok()) << proxies.status();
  return proxies.ok() ? *proxies : TrustedProxies();
}

TEST(TrustedProxies, MatchesAddressesAndNetworksOfBothFamilies) {
  auto proxies = MustParse({"192.0.2.10", "10.0.0.0/8", "172.16.0.0/12", "fd00::/8", "::1"});
  EXPECT_TRUE(proxies.Contains(ip::make_address("192.0.2.10")));
  EXPECT_FALSE(proxies.Contains(ip::make_address("192.0.2.11")));
  EXPECT_TRUE(proxies.Contains(ip::make_address("10.255.1.2")));
  EXPECT_TRUE(proxies.Contains(ip::make_address("172.31.255.255")));
  EXPECT_FALSE(proxies.Contains(ip::make_address("172.32.0.1")));
  EXPECT_TRUE(proxies.Contains(ip::make_address("fd12:3456::1")));
  EXPECT_FALSE(proxies.Contains(ip::make_address("fe80::1")));
  EXPECT_TRUE(proxies.Contains(ip::make_address("::1")));
  // What a dual-stack listener reports for an IPv4 client.
  EXPECT_TRUE(proxies.Contains(ip::make_address("::ffff:10.1.2.3")));
}

TEST(TrustedProxies, EmptyAndZeroPrefix) {
  EXPECT_TRUE(MustParse({}).empty());
  auto everyone = MustParse({"0.0.0.0/0"});
  EXPECT_TRUE(everyone.Contains(ip::make_address("203.0.113.1")));
  EXPECT_FALSE(everyone.Contains(ip::make_address("2001:db8::1")));
}

TEST(TrustedProxies, BadEntriesAreNamed) {
  for (std::string bad :
       {"proxy.example", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "1.2.3.4/8/8", ""}) {
    auto proxies = TrustedProxies::Parse({"127.0.0.1", bad});
    ASSERT_FALSE(proxies.ok()) << bad;
    EXPECT_NE(std::string(proxies.status().message()).find("\"" + bad + "\""), std::string::npos)
        << proxies.status();
  }
}

TEST(ForwardedAddress, AcceptsPortsAndBrackets) {
  EXPECT_EQ(ParseForwardedAddress(" 192.0.2.1 ")->to_string(), "192.0.2.1");
  EXPECT_EQ(ParseForwardedAddress("192.0.2.1:8080")->to_string(), "192.0.2.1");
  EXPECT_EQ(ParseForwardedAddress("2001:db8::1")->to_string(), "2001:db8::1");
  EXPECT_EQ(ParseForwardedAddress("[2001:db8::1]:443")->to_string(), "2001:db8::1");
  EXPECT_FALSE(ParseForwardedAddress("unknown"));
  EXPECT_FALSE(ParseForwardedAddress("[2001:db8::1"));
  EXPECT_FALSE(ParseForwardedAddress(""));
}

Request WithHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  Request request;
  request.headers = std::move(headers);
  return request;
}

TEST(ResolveClient, UntrustedPeerIgnoresForwardedHeaders) {
  auto proxies = MustParse({"10.0.0.1"});
  Request request = WithHeaders({{"Host", "a.example"},
                                 {"X-Forwarded-For", "203.0.113.5"},
                                 {"X-Forwarded-Proto", "https"},
                                 {"X-Forwarded-Host", "b.example"}});
  ResolveClient(proxies, ip::make_address("198.51.100.7"), request);
  EXPECT_EQ(request.client_address, "198.51.100.7");
  EXPECT_EQ(request.scheme, "http");
  EXPECT_EQ(request.host, "a.example");
}

TEST(ResolveClient, RightMostUntrustedHopAcrossSeveralHeaders) {
  auto proxies = MustParse({"10.0.0.0/8"});
  Request request =
      WithHeaders({{"X-Forwarded-For", "1.1.1.1, 203.0.113.5"}, {"x-forwarded-for", "10.0.0.2"}});
  ResolveClient(proxies, ip::make_address("10.0.0.1"), request);
  EXPECT_EQ(request.client_address, "203.0.113.5");
}

TEST(ResolveClient, UnreadableHopStopsAtTheLastTrustedOne) {
  auto proxies = MustParse({"10.0.0.0/8"});
  Request request = WithHeaders({{"X-Forwarded-For", "203.0.113.5, garbage, 10.0.0.3"}});
  ResolveClient(proxies, ip::make_address("10.0.0.1"), request);
  EXPECT_EQ(request.client_address, "10.0.0.3");
}

TEST(ResolveClient, ImplausibleForwardedHostAndProtoAreIgnored) {
  auto proxies = MustParse({"10.0.0.1"});
  Request request = WithHeaders({{"Host", "a.example"},
                                 {"X-Forwarded-Proto", "gopher"},
                                 {"X-Forwarded-Host", "evil.example/path@x"}});
  ResolveClient(proxies, ip::make_address("10.0.0.1"), request);
  EXPECT_EQ(request.scheme, "http");
  EXPECT_EQ(request.host, "a.example");
}

}  // namespace
}  // namespace lattice::web::http
