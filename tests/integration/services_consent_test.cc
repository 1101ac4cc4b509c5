// The consent firewall end to end on one real kernel with the real lattice-irc: a declared
// gateway runs only once this node consents, serves IRC clients, is found through discovery,
// and stops with its token revoked when the node blocks it.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "integration/services_support.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

TEST(ServiceConsent, ManualRunsNothingFollowMeshServesAndBlockStopsAndRevokes) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  auto store = CreateChatStore(kernel, "lobby");
  ASSERT_TRUE(store.ok()) << store.status();
  int port = FreePort();

  // Declared in the node's own mesh, consent left at its default (manual): nothing runs.
  auto declared = CtlJsonOf(kernel, {"service", "declare", kIrcGateway, "--store", "lobby",
                                     "--policy", "Global", "--set", "port=" + std::to_string(port)});
  ASSERT_TRUE(declared.ok()) << declared.status();
  EXPECT_EQ((*declared)["error"], "") << declared->dump();
  auto instance = InstanceOf(kernel, kIrcGateway, *store);
  ASSERT_TRUE(instance.ok()) << instance.status();
  EXPECT_EQ((*instance)["status"], "stopped");
  EXPECT_NE((*instance)["reason"].get<std::string>().find("manual"), std::string::npos) << instance->dump();
  EXPECT_TRUE(DaemonPids(*store).empty());
  EXPECT_FALSE(Accepts(port));

  // follow-mesh: a real lattice-irc serves on the declared port.
  ASSERT_EQ(kernel.Ctl({"service", "consent", kIrcGateway, "follow-mesh"}).exit_code, 0);
  auto running = WaitForInstance(kernel, kIrcGateway, *store, "running", 20s);
  ASSERT_TRUE(running.ok()) << running.status() << "\n" << kernel.log_path();
  EXPECT_EQ(EndpointPort(*running), port);
  ASSERT_TRUE(ChatThroughIrc(port, "alice", "#general", "hello through the gateway").ok());
  EXPECT_TRUE(WaitForChatMessage(kernel, "lobby", "#general", "hello through the gateway"));

  // The discovery record in the mesh's root store says where it runs.
  auto list = CtlJsonOf(kernel, {"service", "list"});
  ASSERT_TRUE(list.ok());
  auto status = CtlJsonOf(kernel, {"status"});
  ASSERT_TRUE(status.ok());
  bool discovered = false;
  for (const auto& mesh : (*list)["meshes"]) {
    for (const auto& d : mesh["discovered"]) {
      discovered |= d["store_id"] == *store && d["status"] == "running" &&
                    d["node_id"] == (*status)["node"]["id"] &&
                    d["endpoints"] == nlohmann::json::array({"tcp://127.0.0.1:" + std::to_string(port)});
    }
  }
  EXPECT_TRUE(discovered) << list->dump();

  // Its environment is clean, and its token is scoped and works.
  pid_t pid = (*running)["pid"].get<int>();
  std::vector<std::string> env = EnvironmentOf(pid);
  std::sort(env.begin(), env.end());
  ASSERT_EQ(env.size(), 2u) << ::testing::PrintToString(env);
  EXPECT_EQ(env[0], "LATTICE_SOCKET=" + kernel.socket());
  ASSERT_EQ(env[1].rfind("LATTICE_TOKEN=", 0), 0u);
  std::string token = env[1].substr(std::string("LATTICE_TOKEN=").size());
  {
    auto with_token = kernel.Connect(token);
    ASSERT_TRUE(with_token.ok()) << with_token.status();
    EXPECT_FALSE((*with_token)->NodeStatus().ok()) << "a service token is not the admin";
    EXPECT_TRUE((*with_token)->History(*store, "#general").ok());
  }

  // block: the daemon stops, its token stops working and the discovery record goes.
  ASSERT_EQ(kernel.Ctl({"service", "consent", kIrcGateway, "block"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return !ProcessAlive(pid) && DaemonPids(*store).empty(); }, 20s));
  auto stopped = WaitForInstance(kernel, kIrcGateway, *store, "stopped", 20s);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_NE((*stopped)["reason"].get<std::string>().find("block"), std::string::npos);
  auto refused = kernel.Connect(token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated) << refused.status();
  EXPECT_FALSE(Accepts(port));
  ASSERT_TRUE(WaitFor([&] {
    auto after = CtlJsonOf(kernel, {"service", "list"});
    if (!after.ok()) return false;
    for (const auto& mesh : (*after)["meshes"]) {
      if (!mesh["discovered"].empty()) return false;
    }
    return true;
  }, 10s));
  // An explicit start needs any consent but block.
  EXPECT_NE(kernel.Ctl({"service", "start", kIrcGateway, "--store", "lobby"}).exit_code, 0);
}

TEST(ServiceConsent, ALocalDeclarationRunsWithoutConsentAndAnOverrideMovesIt) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  auto store = CreateChatStore(kernel, "mine");
  ASSERT_TRUE(store.ok());
  ASSERT_EQ(kernel.Ctl({"service", "declare", kIrcGateway, "--store", "mine", "--local", "--set", "port=0"})
                .exit_code, 0);
  auto running = WaitForInstance(kernel, kIrcGateway, *store, "running", 20s);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_GT(EndpointPort(*running), 0) << "port 0: the OS chose, the daemon reported it";
  EXPECT_TRUE(Accepts(EndpointPort(*running)));

  int port = FreePort();
  ASSERT_EQ(kernel.Ctl({"service", "override", kIrcGateway, "--store", "mine", "port=" + std::to_string(port)})
                .exit_code, 0);
  auto moved = WaitForInstance(kernel, kIrcGateway, *store, "running", 20s,
                               [&](const nlohmann::json& i) { return EndpointPort(i) == port; });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(Accepts(port));
  // A value outside the schema is refused at once and changes nothing.
  CommandResult bad = kernel.Ctl({"service", "override", kIrcGateway, "--store", "mine", "port=70000"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("outside"), std::string::npos) << bad.err;

  // Stop holds until reset.
  ASSERT_EQ(kernel.Ctl({"service", "stop", kIrcGateway, "--store", "mine"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return DaemonPids(*store).empty(); }, 20s));
  ASSERT_EQ(kernel.Ctl({"service", "reset", kIrcGateway, "--store", "mine"}).exit_code, 0);
  EXPECT_TRUE(WaitForInstance(kernel, kIrcGateway, *store, "running", 20s).ok());
}

TEST(ServiceDescriptors, AMalformedDescriptorIsSkippedWithItsLineAndTheOthersServe) {
  ScratchDir dir;
  std::string services = dir.path() + "/services";
  ASSERT_EQ(::mkdir(services.c_str(), 0700), 0);
  std::ofstream(services + "/broken.toml") << "schema_version = 1\nid = \"test.broken\"\nbinary = \"x\"\n"
                                              "store_type = \"chat\"\n[token]\nrights = [\"read\"]\n"
                                              "[invocation]\nstore_flag = \"--store\"\ncolour = \"blue\"\n";
  // An operator's directory may name an absolute binary: one that fails at once.
  std::ofstream(services + "/false.toml") << "schema_version = 1\nid = \"test.false\"\nbinary = \"/bin/false\"\n"
                                             "store_type = \"chat\"\n[token]\nrights = [\"read\"]\n"
                                             "[invocation]\nstore_flag = \"--store\"\n"
                                             "[restart]\nbackoff_initial_ms = 50\nstart_limit_burst = 2\n";
  KernelProcess kernel(dir.path(), {"--services-dir", services, "--services-dir",
                                    std::string(LATTICE_SOURCE_DIR) + "/deploy/services"});
  ASSERT_TRUE(kernel.Start().ok());
  auto list = CtlJsonOf(kernel, {"service", "list"});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ((*list)["descriptor_errors"].size(), 1u) << list->dump();
  std::string error = (*list)["descriptor_errors"][0];
  EXPECT_NE(error.find("broken.toml:9: invocation: unknown key \"colour\""), std::string::npos) << error;
  std::set<std::string> ids;
  for (const auto& d : (*list)["descriptors"]) ids.insert(d["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"lattice.fuse-mount", "lattice.irc-gateway",
                                        "lattice.web-gateway", "test.false"}));

  auto store = CreateChatStore(kernel, "lobby");
  ASSERT_TRUE(store.ok());
  ASSERT_EQ(kernel.Ctl({"service", "declare", "test.false", "--store", "lobby", "--local"}).exit_code, 0);
  auto failed = WaitForInstance(kernel, "test.false", *store, "failed", 20s);
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ((*failed)["restarts"], 1);
  EXPECT_EQ(kernel.Ctl({"status"}).exit_code, 0);
  EXPECT_NE(kernel.Ctl({"service", "declare", "test.broken", "--store", "lobby", "--local"}).exit_code, 0);
}

}  // namespace
}  // namespace lattice::testing
