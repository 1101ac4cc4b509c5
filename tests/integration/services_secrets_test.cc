// What a daemon and a mesh may not do with this node's secrets, on one real kernel: an
// instance cannot open the kernel's cookie, identity key or data directory, yet serves through
// the socket; a mesh's declaration can neither carry a secret setting nor expose a store to
// the network without this node's own word; a daemon's token need not be on its command line.
#include <gtest/gtest.h>

#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/services_support.h"
#include "lattice/common/files.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

std::string RootStoreOf(KernelProcess& kernel) {
  auto stores = CtlJsonOf(kernel, {"store", "list"});
  if (!stores.ok()) return "";
  for (const auto& store : (*stores)["stores"]) {
    if (store["type"] == "root") return store["id"].get<std::string>();
  }
  return "";
}

TEST(ServiceSecrets, AnInstanceCannotOpenTheKernelsSecretsYetServesThroughTheSocket) {
  bool landlock = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION) > 0;
  if (!landlock && ::geteuid() != 0) {
    GTEST_SKIP() << "no Landlock in this kernel and not root: the kernel cannot confine daemons here";
  }
  ScratchDir dir;
  std::string services = dir.path() + "/services";
  ASSERT_EQ(::mkdir(services.c_str(), 0700), 0);
  KernelProcess kernel(dir.path(), {"--services-dir", services});
  std::string cookie = dir.path() + "/admin.cookie";
  std::string key = kernel.data_dir() + "/identity.key";
  std::ofstream(services + "/probe.toml")
      << "schema_version = 1\nid = \"test.probe\"\nbinary = \"" << LATTICE_PROBE_BIN << "\"\n"
      << "store_type = \"kv\"\n[token]\nrights = [\"read\", \"write\"]\n"
      << "[invocation]\nstore_flag = \"--store\"\nargs = [\"--probe=" << cookie << "\", \"--probe="
      << key << "\", \"--probe=" << kernel.data_dir() << "\", \"--probe=/etc/passwd\"]\n"
      << "[restart]\npolicy = \"never\"\n";
  ASSERT_TRUE(kernel.Start().ok());
  ASSERT_TRUE(std::filesystem::exists(cookie) && std::filesystem::exists(key));
  auto admin = kernel.Connect();
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->CreateStore("probed", "kv").ok());
  CommandResult declared = kernel.Ctl({"service", "declare", "test.probe", "--store", "probed", "--local"});
  ASSERT_EQ(declared.exit_code, 0) << declared.err;

  // The probe writes its findings with its own token, through the socket.
  std::string report;
  ASSERT_TRUE(WaitFor([&] {
    auto got = (*admin)->Get("probed", "probe");
    if (got.ok() && got->found()) report = got->value();
    return !report.empty();
  }, 20s)) << ReadFile(kernel.log_path()).value_or("");
  EXPECT_NE(report.find(cookie + ": Permission denied"), std::string::npos) << report;
  EXPECT_NE(report.find(key + ": Permission denied"), std::string::npos) << report;
  EXPECT_NE(report.find(kernel.data_dir() + ": Permission denied"), std::string::npos) << report;
  EXPECT_NE(report.find("/etc/passwd: opened"), std::string::npos) << "the system stays readable: " << report;
  EXPECT_NE(ReadFile(kernel.log_path()).value_or("").find("daemons are confined: "), std::string::npos);
}

TEST(ServiceSecrets, AMeshDeclarationNeitherCarriesASecretNorExposesTheStore) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  auto store = CreateChatStore(kernel, "lobby");
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ(kernel.Ctl({"service", "consent", kIrcGateway, "follow-mesh"}).exit_code, 0);
  int port = FreePort();

  // A secret is refused before it reaches the replicated root store.
  CommandResult secret = kernel.Ctl({"service", "declare", kIrcGateway, "--store", "lobby",
                                     "--policy", "Global", "--set", "password=hunter2"});
  EXPECT_NE(secret.exit_code, 0);
  EXPECT_NE(secret.err.find("lattice-ctl service override lattice.irc-gateway --store lobby password=VALUE"),
            std::string::npos) << secret.err;

  // Another member can still write one there: this node does not take it.
  std::string root = RootStoreOf(kernel);
  ASSERT_FALSE(root.empty());
  nlohmann::json hostile = {{"enabled", true}, {"policy", "Global"}, {"stores", {*store}},
                            {"settings", {{"port", port}, {"password", "hunter2"}}}};
  ASSERT_EQ(kernel.Ctl({"kv", "put", root, "/services/lattice.irc-gateway/config", hostile.dump()}).exit_code, 0);
  auto refused = WaitForInstance(kernel, kIrcGateway, *store, "refused", 20s);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_NE((*refused)["reason"].get<std::string>().find("secret setting password"), std::string::npos)
      << refused->dump();

  // A listen address beyond loopback needs this node's own word.
  CommandResult exposed = kernel.Ctl({"service", "declare", kIrcGateway, "--store", "lobby", "--policy",
                                      "Global", "--set", "port=" + std::to_string(port), "--set", "bind=0.0.0.0"});
  ASSERT_EQ(exposed.exit_code, 0) << exposed.err;
  auto held = WaitForInstance(kernel, kIrcGateway, *store, "refused", 20s, [](const nlohmann::json& i) {
    return i["reason"].get<std::string>().find("exposes the store to the network") != std::string::npos;
  });
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_NE((*held)["reason"].get<std::string>().find("lattice-ctl service consent lattice.irc-gateway always"),
            std::string::npos) << held->dump();
  EXPECT_TRUE(DaemonPids(*store).empty());
  // This node's override decides: it serves on loopback.
  ASSERT_EQ(kernel.Ctl({"service", "override", kIrcGateway, "--store", "lobby", "bind=127.0.0.1"}).exit_code, 0);
  auto running = WaitForInstance(kernel, kIrcGateway, *store, "running", 20s);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(Accepts(port));
}

TEST(ServiceSecrets, TheIrcGatewayTakesItsTokenFromAFile) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  auto store = CreateChatStore(kernel, "lobby");
  ASSERT_TRUE(store.ok());
  auto admin = kernel.Connect();
  ASSERT_TRUE(admin.ok());
  v1::CreateTokenRequest request;
  request.set_name("irc");
  request.add_stores("lobby");
  for (const char* right : {"read", "write", "watch"}) request.add_rights(right);
  auto token = (*admin)->CreateToken(request);
  ASSERT_TRUE(token.ok()) << token.status();
  std::string token_file = dir.path() + "/irc.token";
  std::ofstream(token_file) << token->token() << "\n";

  CommandResult help = RunCommand({LATTICE_IRC_BIN, "--help"});
  EXPECT_NE(help.out.find("--token-file"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("process list"), std::string::npos) << help.out;

  int port = FreePort();
  ChildProcess irc;
  ASSERT_TRUE(irc.Start({LATTICE_IRC_BIN, "--store", "lobby", "--socket", kernel.socket(), "--listen",
                         "127.0.0.1:" + std::to_string(port), "--token-file", token_file},
                        dir.path() + "/irc.log"));
  ASSERT_TRUE(WaitFor([&] { return Accepts(port) || !irc.running(); }, 20s));
  ASSERT_TRUE(irc.running()) << ReadFile(dir.path() + "/irc.log").value_or("");
  EXPECT_TRUE(ChatThroughIrc(port, "alice", "#general", "token from a file").ok());
  EXPECT_TRUE(WaitForChatMessage(kernel, "lobby", "#general", "token from a file"));
  irc.Signal(SIGTERM);
  EXPECT_EQ(irc.Wait(), 0);
}

}  // namespace
}  // namespace lattice::testing
