// Services across real kernels meshed on loopback: a TaggedNodes declaration made on one
// node runs only on the tagged node that follows the mesh, and every node sees where; two
// meshes on one node run two gateways on distinct ports; hostile declarations written by a
// peer run nothing and are explained.
#include <gtest/gtest.h>

#include "harness/cluster.h"
#include "integration/replication_support.h"
#include "integration/services_support.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

// Every discovered instance of `service` in every mesh `node` lists.
std::vector<nlohmann::json> Discovered(Cluster& cluster, size_t node) {
  std::vector<nlohmann::json> out;
  auto list = cluster.CtlJson(node, {"service", "list"});
  if (!list.ok()) return out;
  for (const auto& mesh : (*list)["meshes"]) {
    for (const auto& d : mesh["discovered"]) out.push_back(d);
  }
  return out;
}

TEST(ServiceMesh, TaggedNodesRunsOnlyOnTheTaggedNodeThatFollowsTheMesh) {
  auto cluster = StartMesh(3);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "lobby", Range(3), "chat");
  ASSERT_TRUE(store.ok()) << store.status();
  std::string mesh = *store;  // any store of the mesh names it
  // Node 1 is tagged but leaves consent manual; node 2 is tagged and follows the mesh;
  // node 0 follows the mesh but is not tagged.
  for (size_t i : {1, 2}) {
    ASSERT_EQ(cluster->Ctl(i, {"node", "tag", "add", "gateway", "--mesh", mesh}).exit_code, 0);
  }
  for (size_t i : {0, 2}) {
    ASSERT_EQ(cluster->Ctl(i, {"service", "consent", kIrcGateway, "follow-mesh", "--mesh", mesh}).exit_code, 0);
  }
  CommandResult declared = cluster->Ctl(0, {"service", "declare", kIrcGateway, "--store", "lobby",
                                            "--policy", "TaggedNodes:gateway", "--set", "port=0"});
  ASSERT_EQ(declared.exit_code, 0) << declared.err;

  auto running = WaitForInstance(cluster->kernel(2), kIrcGateway, *store, "running", 30s);
  ASSERT_TRUE(running.ok()) << running.status() << cluster->LogTail(2);
  int port = EndpointPort(*running);
  ASSERT_GT(port, 0);
  auto on0 = InstanceOf(cluster->kernel(0), kIrcGateway, *store);
  auto on1 = InstanceOf(cluster->kernel(1), kIrcGateway, *store);
  ASSERT_TRUE(on0.ok() && on1.ok());
  EXPECT_EQ((*on0)["status"], "stopped");
  EXPECT_NE((*on0)["reason"].get<std::string>().find("tagged gateway"), std::string::npos) << on0->dump();
  EXPECT_EQ((*on1)["status"], "stopped");
  EXPECT_NE((*on1)["reason"].get<std::string>().find("manual"), std::string::npos) << on1->dump();
  EXPECT_TRUE(DaemonPids(*store).size() == 1) << "one gateway among the three kernels";

  // Every node lists where it runs: on node 2, at its endpoint.
  auto node2 = cluster->NodeId(2);
  ASSERT_TRUE(node2.ok());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(WaitFor([&] {
      for (const auto& d : Discovered(*cluster, i)) {
        if (d["node_id"] == *node2 && d["store_id"] == *store && d["status"] == "running" &&
            EndpointPort(d) == port) {
          return true;
        }
      }
      return false;
    }, 30s)) << "node " << i;
  }
  // Chat through node 2's gateway reaches node 0.
  ASSERT_TRUE(ChatThroughIrc(port, "carol", "#mesh", "from the gateway node").ok());
  EXPECT_TRUE(WaitForChatMessage(cluster->kernel(0), "lobby", "#mesh", "from the gateway node", 30s));
}

TEST(ServiceMesh, TwoMeshesOnOneNodeRunTwoGatewaysOnDistinctPorts) {
  auto cluster = StartMesh(2);  // node 1 joins node 0's mesh and keeps its own
  ASSERT_NE(cluster, nullptr);
  auto a = CreateStoreEverywhere(*cluster, 0, "work", {0, 1}, "chat");
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = CreateChatStore(cluster->kernel(1), "hobby");  // in node 1's own mesh
  ASSERT_TRUE(b.ok()) << b.status();
  int port = FreePort();
  std::string p = "port=" + std::to_string(port);
  ASSERT_EQ(cluster->Ctl(0, {"service", "declare", kIrcGateway, "--store", "work", "--policy", "Global",
                             "--set", p}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(1, {"service", "declare", kIrcGateway, "--store", "hobby", "--policy", "Global",
                             "--set", p}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(1, {"service", "consent", kIrcGateway, "follow-mesh", "--mesh", *a}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(1, {"service", "consent", kIrcGateway, "follow-mesh"}).exit_code, 0);

  auto work = WaitForInstance(cluster->kernel(1), kIrcGateway, *a, "running", 30s);
  auto hobby = WaitForInstance(cluster->kernel(1), kIrcGateway, *b, "running", 30s);
  ASSERT_TRUE(work.ok()) << work.status();
  ASSERT_TRUE(hobby.ok()) << hobby.status();
  int work_port = EndpointPort(*work), hobby_port = EndpointPort(*hobby);
  EXPECT_NE(work_port, hobby_port);
  EXPECT_TRUE(work_port == port || hobby_port == port) << "one keeps the declared port";
  EXPECT_NE((work_port == port ? *hobby : *work)["reason"].get<std::string>().find("the OS picks"),
            std::string::npos);
  EXPECT_TRUE(Accepts(work_port));
  EXPECT_TRUE(Accepts(hobby_port));
  EXPECT_EQ(DaemonPids(*a).size(), 1u);
  EXPECT_EQ(DaemonPids(*b).size(), 1u);
  EXPECT_TRUE(InstanceOf(cluster->kernel(0), kIrcGateway, *a)->value("status", "") == "stopped");

  // Both are in discovery, each in its own mesh.
  auto node1 = cluster->NodeId(1);
  ASSERT_TRUE(node1.ok());
  EXPECT_TRUE(WaitFor([&] {
    int found = 0;
    for (const auto& d : Discovered(*cluster, 1)) {
      if (d["node_id"] == *node1 && d["status"] == "running" &&
          ((d["store_id"] == *a && EndpointPort(d) == work_port) ||
           (d["store_id"] == *b && EndpointPort(d) == hobby_port))) {
        ++found;
      }
    }
    return found == 2;
  }, 20s));
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& d : Discovered(*cluster, 0)) {
      if (d["node_id"] == *node1 && d["store_id"] == *a && EndpointPort(d) == work_port) return true;
    }
    return false;
  }, 30s)) << "node 0 sees node 1's gateway of its mesh";

  // A local override settles the clash on a port of the owner's choosing.
  int chosen = FreePort();
  std::string moved_store = work_port == port ? *b : *a;
  ASSERT_EQ(cluster->Ctl(1, {"service", "override", kIrcGateway, "--store", moved_store,
                             "port=" + std::to_string(chosen)}).exit_code, 0);
  auto moved = WaitForInstance(cluster->kernel(1), kIrcGateway, moved_store, "running", 20s,
                               [&](const nlohmann::json& i) { return EndpointPort(i) == chosen; });
  EXPECT_TRUE(moved.ok()) << moved.status();
}

TEST(ServiceMesh, HostileDeclarationsFromAPeerRunNothingAndSayWhy) {
  auto cluster = StartMesh(2);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "lobby", {0, 1}, "chat");
  ASSERT_TRUE(store.ok()) << store.status();
  auto status = cluster->CtlJson(0, {"status"});
  ASSERT_TRUE(status.ok());
  std::string root = (*status)["node"]["root_store_id"];
  // Node 1 follows the mesh for every service involved; node 0 plays the hostile peer.
  for (const std::string& id : {std::string(kIrcGateway), std::string("lattice.evil")}) {
    ASSERT_EQ(cluster->Ctl(1, {"service", "consent", id, "follow-mesh", "--mesh", root}).exit_code, 0);
  }
  const std::string stores = R"("stores":[")" + *store + R"("])";
  struct Case {
    std::string service;
    std::string value;
    std::string reason;
  };
  std::vector<Case> cases = {
      {kIrcGateway, R"({"policy":"Global",)" + stores + R"(,"binary":"/bin/sh"})", "unknown key \"binary\""},
      {kIrcGateway, R"({"policy":"Global",)" + stores + R"(,"settings":{"bind":"127.0.0.1; touch /tmp/x"}})",
       "does not match"},
      {kIrcGateway, R"({"policy":"Global",)" + stores + R"(,"settings":{"port":70000}})", "outside 1..65535"},
      {kIrcGateway, R"({"policy":"Global",)" + stores + R"(,"settings":{"history":")" + std::string(30'000, '9') + R"("}})",
       "limit"},
      {"lattice.evil", R"({"policy":"Global",)" + stores + "}", "no descriptor for lattice.evil"},
  };
  for (const auto& c : cases) {
    std::string key = "/services/" + c.service + "/config";
    CommandResult put = cluster->Ctl(0, {"kv", "put", root, key, c.value});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    bool explained = WaitFor([&] {
      auto list = cluster->CtlJson(1, {"service", "list", "--mesh", root});
      if (!list.ok()) return false;
      for (const auto& mesh : (*list)["meshes"]) {
        for (const auto& d : mesh["declarations"]) {
          if (d["service_id"] == c.service && d["error"].get<std::string>().find(c.reason) != std::string::npos) {
            return true;
          }
        }
      }
      return false;
    }, 30s);
    EXPECT_TRUE(explained) << c.reason << "\n" << cluster->Ctl(1, {"service", "list"}).out;
    // Nothing runs and the node stays up. (Setting the consent again returns after a
    // reconciliation that began after the hostile write was listed.)
    ASSERT_EQ(cluster->Ctl(1, {"service", "consent", c.service, "follow-mesh", "--mesh", root}).exit_code, 0);
    EXPECT_TRUE(DaemonPids(*store).empty()) << c.reason;
    auto instance = InstanceOf(cluster->kernel(1), c.service, *store);
    if (instance.ok()) {
      EXPECT_NE((*instance)["status"], "running") << instance->dump();
    }
    EXPECT_EQ(cluster->Ctl(1, {"status"}).exit_code, 0);
    ASSERT_EQ(cluster->Ctl(0, {"kv", "del", root, key}).exit_code, 0);
  }
  EXPECT_TRUE(cluster->running(1));
  EXPECT_TRUE(DaemonPids(*store).empty());
}

}  // namespace
}  // namespace lattice::testing
