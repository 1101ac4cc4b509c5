// Descriptor parsing: the shipped descriptors, and malformed ones reported with file, line
// and reason.
#include "services/descriptor.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "services/catalog.h"
#include "services/service_limits.h"
#include "services/settings.h"

namespace lattice::services {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kMinimal = R"(schema_version = 1
id = "test.echo"
binary = "echo-daemon"
store_type = "kv"
[token]
rights = ["read"]
[invocation]
store_flag = "--store"
)";

std::string ErrorOf(const std::string& text, bool absolute = false) {
  auto parsed = ParseDescriptor(text, "t.toml", absolute);
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

TEST(Descriptor, TheShippedIrcGatewayDescriptorParses) {
  std::string path = std::string(LATTICE_SOURCE_DIR) + "/deploy/services/lattice.irc-gateway.toml";
  auto d = ParseDescriptor(ReadText(path), path, false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->id, "lattice.irc-gateway");
  EXPECT_EQ(d->binary, "lattice-irc");
  EXPECT_EQ(d->store_type, "chat");
  EXPECT_EQ(d->port_report, PortReport::kStdoutLine);
  EXPECT_TRUE(d->allow_zero_port);
  EXPECT_FALSE(d->privileged_ports);
  const SettingSpec* port = d->FindSetting("port");
  ASSERT_NE(port, nullptr);
  EXPECT_TRUE(port->port);
  EXPECT_EQ(std::get<int64_t>(*port->default_value), 6667);
  const SettingSpec* bind = d->FindSetting("bind");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(std::get<std::string>(*bind->default_value), "127.0.0.1");
  const SettingSpec* password = d->FindSetting("password");
  ASSERT_NE(password, nullptr);
  EXPECT_TRUE(password->secret);
  EXPECT_EQ(password->env, "LATTICE_IRC_PASSWORD");
  EXPECT_FALSE(password->default_value.has_value());
  EXPECT_EQ(d->restart.start_limit_burst, 5u);
  EXPECT_EQ(d->restart.no_restart_exit_codes, std::vector<int>{2});
}

TEST(Settings, TheMeshNeitherSetsSecretsNorExposesAStoreWithoutThisNodesWord) {
  std::string path = std::string(LATTICE_SOURCE_DIR) + "/deploy/services/lattice.irc-gateway.toml";
  auto d = ParseDescriptor(ReadText(path), path, false);
  ASSERT_TRUE(d.ok()) << d.status();
  const SettingSpec* bind = d->FindSetting("bind");
  ASSERT_NE(bind, nullptr);
  EXPECT_TRUE(bind->listen_address);
  for (const char* local : {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_FALSE(ExposesToNetwork(*bind, std::string(local))) << local;
  }
  for (const char* open : {"0.0.0.0", "::", "192.168.1.5", "fe80::1"}) {
    EXPECT_TRUE(ExposesToNetwork(*bind, std::string(open))) << open;
  }
  nlohmann::json none = nlohmann::json::object();
  EXPECT_TRUE(CheckMeshSettings(*d, "s", {{"port", 6697}, {"bind", "127.0.0.1"}}, none, false).ok());
  auto exposed = CheckMeshSettings(*d, "s", {{"bind", "0.0.0.0"}}, none, false);
  EXPECT_EQ(exposed.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckMeshSettings(*d, "s", {{"bind", "0.0.0.0"}}, none, /*consent_always=*/true).ok());
  EXPECT_TRUE(CheckMeshSettings(*d, "s", {{"bind", "0.0.0.0"}}, {{"bind", "0.0.0.0"}}, false).ok());
  // Not even consent `always` takes a secret from the mesh.
  auto secret = CheckMeshSettings(*d, "s", {{"password", "hunter2"}}, {{"password", "x"}}, true);
  EXPECT_EQ(secret.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(secret.message()).find("service override"), std::string::npos) << secret;
}

TEST(Descriptor, TheFuseMountDescriptorKeepsItsMountPointLocal) {
  std::string path = std::string(LATTICE_SOURCE_DIR) + "/deploy/services/lattice.fuse-mount.toml";
  auto d = ParseDescriptor(ReadText(path), path, false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->binary, "lattice-fuse");
  EXPECT_EQ(d->store_type, "fs");
  EXPECT_TRUE(d->token_prefixes.empty());
  const SettingSpec* mountpoint = d->FindSetting("mountpoint");
  ASSERT_NE(mountpoint, nullptr);
  EXPECT_TRUE(mountpoint->local);
  EXPECT_FALSE(mountpoint->secret);
  EXPECT_FALSE(mountpoint->default_value.has_value());
  EXPECT_TRUE(SettingFromText(*d, *mountpoint, "/home/ann/Lattice").ok());
  EXPECT_FALSE(SettingFromText(*d, *mountpoint, "relative/path").ok());
  nlohmann::json none = nlohmann::json::object();
  // The mesh may not say where a node mounts, not even with this node's consent `always`
  // or its own override of the same setting.
  for (bool consent : {false, true}) {
    auto where = CheckMeshSettings(*d, "s", {{"mountpoint", "/etc"}}, none, consent);
    EXPECT_EQ(where.code(), absl::StatusCode::kPermissionDenied) << where;
    EXPECT_NE(std::string(where.message()).find("service override"), std::string::npos);
  }
  auto overridden =
      CheckMeshSettings(*d, "s", {{"mountpoint", "/etc"}}, {{"mountpoint", "/srv/x"}}, false);
  EXPECT_EQ(overridden.code(), absl::StatusCode::kPermissionDenied);
  // A declaration that leaves it alone is followed, and this node's override sets it.
  EXPECT_TRUE(CheckMeshSettings(*d, "s", {{"cache_seconds", 5}}, none, false).ok());
  auto values = ResolveSettings(*d, {{"cache_seconds", 5}}, {{"mountpoint", "/srv/drive"}});
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(std::get<std::string>(values->at("mountpoint")), "/srv/drive");
}

TEST(Descriptor, TheWebGatewayListensOnLoopbackUnlessThisNodeSaysOtherwise) {
  std::string path = std::string(LATTICE_SOURCE_DIR) + "/deploy/services/lattice.web-gateway.toml";
  auto d = ParseDescriptor(ReadText(path), path, false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->id, "lattice.web-gateway");
  EXPECT_EQ(d->binary, "lattice-web");
  EXPECT_EQ(d->store_flag, "--store");
  EXPECT_EQ(d->token_rights, std::vector<std::string>{"read"});
  const SettingSpec* bind = d->FindSetting("bind");
  ASSERT_NE(bind, nullptr);
  EXPECT_TRUE(bind->listen_address);
  EXPECT_EQ(bind->flag, "--bind");
  EXPECT_EQ(std::get<std::string>(*bind->default_value), "127.0.0.1");
  EXPECT_FALSE(ExposesToNetwork(*bind, *bind->default_value));
  const SettingSpec* port = d->FindSetting("port");
  ASSERT_NE(port, nullptr);
  EXPECT_TRUE(port->port);
  EXPECT_EQ(port->flag, "--port");
  EXPECT_EQ(std::get<int64_t>(*port->default_value), 8470);
  EXPECT_FALSE(SettingFromText(*d, *bind, "example.org").ok()) << "no host names";

  nlohmann::json none = nlohmann::json::object();
  // The mesh may move it to another port or loopback address...
  EXPECT_TRUE(CheckMeshSettings(*d, "s", {{"port", 8471}, {"bind", "127.0.0.2"}}, none, false).ok());
  // ...but not onto the network, whatever address it names.
  for (const char* open : {"0.0.0.0", "::", "10.1.2.3", "fe80::1"}) {
    auto exposed = CheckMeshSettings(*d, "s", {{"bind", open}}, none, false);
    EXPECT_EQ(exposed.code(), absl::StatusCode::kPermissionDenied) << open;
    EXPECT_NE(std::string(exposed.message()).find("service override lattice.web-gateway"),
              std::string::npos)
        << exposed;
  }
  // This node's own override decides, and then the override's value is the one used.
  nlohmann::json local = {{"bind", "192.168.1.5"}};
  EXPECT_TRUE(CheckMeshSettings(*d, "s", {{"bind", "0.0.0.0"}}, local, false).ok());
  auto values = ResolveSettings(*d, {{"bind", "0.0.0.0"}}, local);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(std::get<std::string>(values->at("bind")), "192.168.1.5");
  auto defaults = ResolveSettings(*d, none, none);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(std::get<std::string>(defaults->at("bind")), "127.0.0.1");
  EXPECT_EQ(std::get<int64_t>(defaults->at("port")), 8470);
}

TEST(Descriptor, TokenRightsIncludeMetrics) {
  std::string with_metrics = kMinimal;
  with_metrics.replace(with_metrics.find(R"(rights = ["read"])"), 17, R"(rights = ["read", "metrics"])");
  auto metrics = ParseDescriptor(with_metrics, "t.toml", false);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->token_rights, (std::vector<std::string>{"read", "metrics"}));
  std::string unknown = kMinimal;
  unknown.replace(unknown.find(R"(rights = ["read"])"), 17, R"(rights = ["admin"])");
  EXPECT_NE(ErrorOf(unknown).find("metrics"), std::string::npos) << ErrorOf(unknown);
}

TEST(Descriptor, LocalIsABoolAndSecretImpliesIt) {
  std::string text = kMinimal + R"(
[[settings]]
name = "where"
type = "string"
pattern = '^/.*$'
flag = "--where"
local = "yes"
)";
  EXPECT_NE(ErrorOf(text), "");
  std::string secret = kMinimal + R"(
[[settings]]
name = "key"
type = "string"
pattern = '^.*$'
env = "KEY"
secret = true
)";
  auto d = ParseDescriptor(secret, "t.toml", false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->FindSetting("key")->local);
}

TEST(Descriptor, EveryShippedDescriptorLoadsWithoutErrors) {
  Catalog catalog = LoadCatalog({std::string(LATTICE_SOURCE_DIR) + "/deploy/services"}, false);
  EXPECT_TRUE(catalog.errors.empty()) << catalog.errors.front();
  EXPECT_NE(catalog.Find("lattice.irc-gateway"), nullptr);
  EXPECT_NE(catalog.Find("lattice.web-gateway"), nullptr);
}

TEST(Descriptor, AMinimalDescriptorTakesTheDefaults) {
  auto d = ParseDescriptor(kMinimal, "t.toml", false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->restart.policy, RestartPolicy::kOnFailure);
  EXPECT_EQ(d->restart.stop_timeout_s, 10u);
  EXPECT_TRUE(d->settings.empty());
}

TEST(Descriptor, AnUnknownKeyIsReportedWithItsLine) {
  std::string error = ErrorOf(kMinimal + "colour = \"blue\"\n");
  EXPECT_NE(error.find("t.toml:9:"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key \"colour\""), std::string::npos) << error;
  error = ErrorOf(kMinimal + "[[settings]]\nname = \"x\"\ntype = \"int\"\nflag = \"--x\"\nbogus = 1\n");
  EXPECT_NE(error.find("t.toml:13:"), std::string::npos) << error;
  EXPECT_NE(error.find("bogus"), std::string::npos) << error;
}

TEST(Descriptor, SyntaxErrorsCarryTheirLine) {
  std::string error = ErrorOf("schema_version = 1\nid = \"x\nbinary = 3\n");
  EXPECT_NE(error.find("t.toml:2:"), std::string::npos) << error;
}

TEST(Descriptor, MalformedDescriptorsAreRefusedWithAReason) {
  struct Case {
    std::string text;
    std::string expected;
  };
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  std::vector<Case> cases = {
      {replace(kMinimal, "schema_version = 1", "schema_version = 2"), "schema_version 2"},
      {replace(kMinimal, "id = \"test.echo\"\n", ""), "\"id\" is missing"},
      {replace(kMinimal, "test.echo", "Test Echo"), "must be [a-z0-9]"},
      {replace(kMinimal, "echo-daemon", "/usr/bin/echo"), "bare name"},
      {replace(kMinimal, "echo-daemon", "../bin/sh"), "bare file name"},
      {replace(kMinimal, "\"kv\"", "\"root\""), "store_type"},
      {replace(kMinimal, "[\"read\"]", "[\"read\", \"admin\"]"), "\"admin\""},
      {replace(kMinimal, "--store", "store"), "store_flag"},
      {kMinimal + "[[settings]]\nname = \"host\"\ntype = \"string\"\nflag = \"--host\"\n", "needs a pattern"},
      {kMinimal + "[[settings]]\nname = \"p\"\ntype = \"int\"\nflag = \"--p\"\nenv = \"P\"\n", "exactly one"},
      {kMinimal + "[[settings]]\nname = \"p\"\ntype = \"int\"\nenv = \"LATTICE_TOKEN\"\n", "not a usable"},
      {kMinimal + "[[settings]]\nname = \"p\"\ntype = \"int\"\nflag = \"--p\"\nmin = 5\nmax = 1\n", "above max"},
      {kMinimal + "[[settings]]\nname = \"p\"\ntype = \"int\"\nflag = \"--p\"\ndefault = 9\nmax = 1\n", "outside"},
      {kMinimal + "[[settings]]\nname = \"s\"\ntype = \"string\"\nflag = \"--s\"\npattern = \"[a-z]+\"\ndefault = \"A\"\n", "does not match"},
      {kMinimal + "[[settings]]\nname = \"p\"\ntype = \"int\"\nflag = \"--p\"\nport = true\ndefault = 22\n", "privileged"},
      {kMinimal + "[[settings]]\nname = \"s\"\ntype = \"string\"\nflag = \"--s\"\npattern = \"(\"\n", "does not compile"},
      {kMinimal + "[[settings]]\nname = \"s\"\ntype = \"string\"\nflag = \"--s\"\npattern = \"((a{1000}){1000}){1000}\"\n", "does not compile"},
      {kMinimal + "[[settings]]\nname = \"s\"\ntype = \"string\"\nflag = \"--s\"\npattern = \"(a)\\\\1\"\n", "does not compile"},
      {kMinimal + "[[settings]]\nname = \"s\"\ntype = \"string\"\nflag = \"--s\"\nport = true\npattern = \"x\"\n", "only an int"},
      {kMinimal + "[ports]\nallow_zero = true\n", "port_report"},
      {kMinimal + "[restart]\nstop_timeout_s = 60\n", "outside 1..20"},
      {kMinimal + "[restart]\npolicy = \"sometimes\"\n", "sometimes"},
      {kMinimal + "[restart]\nstop_signal = \"SIGKILL\"\n", "stop_signal"},
      {kMinimal + "[restart]\nbackoff_initial_ms = 100\nbackoff_max_ms = 10\n", "below"},
      {replace(kMinimal, "[token]\nrights = [\"read\"]\n", ""), "[token] is missing"},
  };
  for (const auto& c : cases) {
    std::string error = ErrorOf(c.text);
    EXPECT_NE(error.find(c.expected), std::string::npos) << "expected \"" << c.expected << "\" in: " << error;
    EXPECT_EQ(error.rfind("t.toml:", 0), 0u) << error;
  }
}

// Values reach patterns from the mesh: a pattern that would make a backtracking matcher
// recurse once per character, checked against the longest value allowed, still answers.
TEST(Descriptor, APatternMatchesTheLongestValueWithoutBacktracking) {
  auto descriptor = ParseDescriptor(
      kMinimal + "[[settings]]\nname = \"s\"\ntype = \"string\"\nflag = \"--s\"\npattern = '(a|aa)*b?'\n", "t.toml",
      false);
  ASSERT_TRUE(descriptor.ok()) << descriptor.status();
  const SettingSpec& spec = descriptor->settings.at(0);
  std::string longest(limits::kMaxSettingValueBytes, 'a');
  EXPECT_TRUE(CheckSettingValue(*descriptor, spec, SettingValue(longest)).ok());
  longest.back() = 'c';
  absl::Status refused = CheckSettingValue(*descriptor, spec, SettingValue(longest));
  EXPECT_NE(refused.message().find("does not match"), std::string_view::npos) << refused;
}

TEST(Descriptor, AnAbsoluteBinaryOnlyFromTheOperatorsDirectory) {
  std::string text = kMinimal;
  text.replace(text.find("echo-daemon"), 11, "/usr/bin/echo");
  EXPECT_FALSE(ParseDescriptor(text, "t.toml", false).ok());
  EXPECT_TRUE(ParseDescriptor(text, "t.toml", true).ok());
}

TEST(Descriptor, OversizedFilesAreRefusedBeforeParsing) {
  std::string text = kMinimal + "# " + std::string(70'000, 'x') + "\n";
  auto parsed = ParseDescriptor(text, "t.toml", false);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Descriptor, ACatalogSkipsBadFilesAndDuplicatesAndKeepsTheRest) {
  auto dir = std::filesystem::temp_directory_path() / ("lattice-catalog-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.toml") << kMinimal;
  std::ofstream(dir / "b.toml") << kMinimal;  // the same id again
  std::ofstream(dir / "c.toml") << "id = [";
  std::ofstream(dir / "notes.txt") << "not a descriptor";
  Catalog catalog = LoadCatalog({dir.string(), (dir / "missing").string()}, false);
  EXPECT_NE(catalog.Find("test.echo"), nullptr);
  ASSERT_EQ(catalog.errors.size(), 3u);
  EXPECT_NE(catalog.errors[0].find("b.toml:1: test.echo is already described"), std::string::npos) << catalog.errors[0];
  EXPECT_NE(catalog.errors[1].find("c.toml:1:"), std::string::npos) << catalog.errors[1];
  EXPECT_NE(catalog.errors[2].find("missing"), std::string::npos) << catalog.errors[2];
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lattice::services
