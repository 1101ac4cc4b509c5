// Declarations as a hostile member may write them, and setting values checked against the
// descriptor's schema.
#include "services/declaration.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "services/descriptor.h"
#include "services/discovery_record.h"
#include "services/settings.h"

namespace lattice::services {
namespace {

constexpr char kStore[] = "3f2a1b2c-1111-4222-8333-444455556666";

ServiceDescriptor Gateway() {
  std::string path = std::string(LATTICE_SOURCE_DIR) + "/deploy/services/lattice.irc-gateway.toml";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto d = ParseDescriptor(text.str(), path, false);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}

std::string Declared(const std::string& settings, const std::string& extra = "") {
  return R"j({"enabled":true,"policy":"TaggedNodes(gateway)","stores":[")j" + std::string(kStore) +
         R"("],"settings":)" + settings + extra + "}";
}

TEST(Declaration, AValidDeclarationParsesAndRoundTrips) {
  auto d = ParseDeclaration(Declared(R"({"port":6668})"), false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->enabled);
  EXPECT_EQ(d->policy, (Policy{PolicyKind::kTaggedNodes, "gateway"}));
  EXPECT_EQ(d->stores, std::vector<std::string>{kStore});
  auto again = ParseDeclaration(SerializeDeclaration(*d), false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->settings, d->settings);
}

TEST(Declaration, HostileShapesAreRefusedWithAReason) {
  struct Case {
    std::string text;
    std::string expected;
  };
  std::vector<Case> cases = {
      {Declared("{}", R"(,"binary":"/bin/sh")"), "unknown key \"binary\""},
      {Declared("{}", R"(,"args":["-c","rm -rf /"])"), "unknown key \"args\""},
      {"[1,2,3]", "JSON object"},
      {"{not json", "not valid JSON"},
      {R"({"policy":"Global","stores":[]})", "names no store"},
      {R"({"policy":"Global","stores":["../../etc"]})", "canonical UUIDs"},
      {R"({"policy":"LocalOnly","stores":[")" + std::string(kStore) + R"("]})", "LocalOnly"},
      {R"j({"policy":"TaggedNodes(Bad Tag)","stores":[")j" + std::string(kStore) + R"("]})", "tag"},
      {R"({"policy":"Everywhere","stores":[")" + std::string(kStore) + R"("]})", "policy is"},
      {Declared(R"({"port":{"nested":1}})"), "number, string or bool"},
      {Declared(R"({"Port":1})"), "setting name"},
      {R"({"enabled":"yes","stores":[")" + std::string(kStore) + R"("]})", "true or false"},
      {Declared("{}", R"(,"pad":")" + std::string(20'000, 'x') + "\""), "limit"},
  };
  for (const auto& c : cases) {
    auto d = ParseDeclaration(c.text, false);
    ASSERT_FALSE(d.ok()) << c.text.substr(0, 80);
    EXPECT_NE(d.status().message().find(c.expected), std::string::npos)
        << "expected \"" << c.expected << "\" in: " << d.status().message();
  }
}

TEST(Declaration, SettingsOutsideTheSchemaAreRefusedAndNothingIsHalfApplied) {
  ServiceDescriptor d = Gateway();
  struct Case {
    std::string settings;
    std::string expected;
  };
  std::vector<Case> cases = {
      {R"({"port":70000})", "outside 1..65535"},
      {R"({"port":22})", "privileged port"},
      {R"({"port":"6667"})", "must be an integer"},
      {R"({"bind":"127.0.0.1; rm -rf /"})", "does not match"},
      {R"j({"bind":"$(reboot)"})j", "does not match"},
      {R"({"bind":"127.0.0.1\n--socket=/tmp/x"})", "control characters"},
      {R"({"history":5000})", "outside 0..1000"},
      {R"({"password":"has space"})", "does not match"},
      {R"({"command":"/bin/sh"})", "has no setting"},
      {R"({"bind":")" + std::string(5000, '1') + R"("})", "limit"},
  };
  for (const auto& c : cases) {
    auto values = ResolveSettings(d, nlohmann::json::parse(c.settings), nullptr);
    ASSERT_FALSE(values.ok()) << c.settings.substr(0, 80);
    EXPECT_NE(values.status().message().find(c.expected), std::string::npos)
        << "expected \"" << c.expected << "\" in: " << values.status().message();
  }
  // The secret never appears in a message.
  auto secret = ResolveSettings(d, nlohmann::json::parse(R"({"password":"top secret"})"), nullptr);
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message().find("top secret"), std::string::npos);
}

TEST(Declaration, DefaultsThenTheMeshThenTheNodesOverrides) {
  ServiceDescriptor d = Gateway();
  auto values = ResolveSettings(d, nlohmann::json::parse(R"({"port":7000,"history":10})"),
                                nlohmann::json::parse(R"({"port":7001})"));
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(std::get<int64_t>(values->at("port")), 7001);
  EXPECT_EQ(std::get<int64_t>(values->at("history")), 10);
  EXPECT_EQ(std::get<std::string>(values->at("bind")), "127.0.0.1");
  EXPECT_EQ(values->count("password"), 0u) << "no default: not passed at all";
  // Port 0 is accepted because the descriptor allows the OS to choose.
  EXPECT_TRUE(ResolveSettings(d, nlohmann::json::parse(R"({"port":0})"), nullptr).ok());
  // A bad override is refused as a whole too.
  EXPECT_FALSE(ResolveSettings(d, nullptr, nlohmann::json::parse(R"({"port":-1})")).ok());
}

TEST(Declaration, SettingsFromTheCommandLine) {
  ServiceDescriptor d = Gateway();
  const SettingSpec* port = d.FindSetting("port");
  EXPECT_EQ(std::get<int64_t>(*SettingFromText(d, *port, "6670")), 6670);
  EXPECT_FALSE(SettingFromText(d, *port, "66x").ok());
  EXPECT_FALSE(SettingFromText(d, *port, "").ok());
  EXPECT_FALSE(SettingFromText(d, *port, "99999999999999999999").ok());
}

TEST(Declaration, PoliciesAndTags) {
  EXPECT_EQ(*ParsePolicy("TaggedNodes:gateway"), (Policy{PolicyKind::kTaggedNodes, "gateway"}));
  EXPECT_EQ(*ParsePolicy("TaggedNodes(gateway)"), (Policy{PolicyKind::kTaggedNodes, "gateway"}));
  EXPECT_EQ(FormatPolicy(*ParsePolicy("Global")), "Global");
  EXPECT_FALSE(ParsePolicy("TaggedNodes").ok());
  EXPECT_FALSE(ParsePolicy("TaggedNodes:").ok());
  EXPECT_EQ(ParseTags("gateway, edge,,Bad Tag,edge,x"), (std::vector<std::string>{"gateway", "edge", "x"}));
  EXPECT_EQ(FormatTags({"a", "b"}), "a,b");
  std::string many;
  for (int i = 0; i < 40; ++i) many += "t" + std::to_string(i) + ",";
  EXPECT_EQ(ParseTags(many).size(), 32u) << "tags beyond the cap are dropped";
  EXPECT_EQ(ServiceIdOfDeclarationKey(DeclarationKey("lattice.irc-gateway")), "lattice.irc-gateway");
  EXPECT_EQ(ServiceIdOfDeclarationKey("/services/x"), "");
}

TEST(DiscoveryRecord, RoundTripsAndSkipsWhatAHostileNodeCouldWrite) {
  std::vector<DiscoveredInstance> instances = {{kStore, "running", {"tcp://127.0.0.1:6667"}, 42, 3}};
  auto parsed = ParseDiscovery(SerializeDiscovery(instances));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].endpoints, instances[0].endpoints);
  EXPECT_EQ((*parsed)[0].restarts, 3u);
  auto hostile = ParseDiscovery(R"({"instances":[{"store":"nope","status":"running"},)"
                                R"({"store":")" + std::string(kStore) + R"(","status":"run\u0001"},3]})");
  ASSERT_TRUE(hostile.ok());
  ASSERT_EQ(hostile->size(), 1u) << "the entry with a bad store id is skipped";
  EXPECT_EQ((*hostile)[0].status, "run?");
  EXPECT_FALSE(ParseDiscovery("[]").ok());
  EXPECT_FALSE(ParseDiscovery(std::string(20'000, ' ')).ok());
}

}  // namespace
}  // namespace lattice::services
