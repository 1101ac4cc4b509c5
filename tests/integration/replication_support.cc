#include "integration/replication_support.h"

#include <gtest/gtest.h>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

namespace lattice::testing {

std::unique_ptr<Cluster> StartMesh(size_t nodes, std::chrono::milliseconds sync_interval) {
  ClusterOptions options;
  options.nodes = nodes;
  options.sync_interval = sync_interval;
  auto cluster = Cluster::Create(options);
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  auto started = (*cluster)->StartAll();
  EXPECT_TRUE(started.ok()) << started;
  if (!started.ok()) return nullptr;
  auto meshed = (*cluster)->MakeMesh();
  EXPECT_TRUE(meshed.ok()) << meshed;
  if (!meshed.ok()) return nullptr;
  return *std::move(cluster);
}

std::vector<size_t> Range(size_t count) {
  std::vector<size_t> out;
  for (size_t i = 0; i < count; ++i) out.push_back(i);
  return out;
}

absl::StatusOr<nlohmann::json> StoreStatus(Cluster& cluster, size_t on, const std::string& store) {
  return cluster.CtlJson(on, {"store", "status", store});
}

absl::StatusOr<std::string> CreateStoreEverywhere(Cluster& cluster, size_t on,
                                                  const std::string& name,
                                                  const std::vector<size_t>& nodes,
                                                  const std::string& type) {
  CommandResult created = cluster.Ctl(on, {"store", "create", name, "--type", type});
  if (created.exit_code != 0) return absl::InternalError("store create: " + created.err);
  std::string id = created.out.substr(0, created.out.find_first_of("\n "));
  bool everywhere = WaitFor([&] {
    for (size_t n : nodes) {
      auto status = cluster.CtlJson(n, {"status"});
      if (!status.ok()) return false;
      bool known = false;
      for (const auto& store : (*status)["stores"]) known |= store.value("id", "") == id;
      if (!known) return false;
      for (const auto& bootstrap : status->value("bootstraps", nlohmann::json::array())) {
        if (bootstrap.value("store_id", "") == id && !bootstrap.value("done", false)) return false;
      }
    }
    return true;
  }, std::chrono::seconds(30));
  if (!everywhere) return absl::DeadlineExceededError("store " + id + " did not reach every node");
  return id;
}

std::vector<std::string> WriteKeys(Cluster& cluster, size_t on, const std::string& store,
                                   const std::string& prefix, size_t count, size_t threads) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<std::string> acked;
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      auto client = cluster.Client(on);
      if (!client.ok()) {
        std::fprintf(stderr, "node %zu: no client: %s\n", on, client.status().ToString().c_str());
        return;
      }
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= count) return;
        std::string key = prefix + std::to_string(i);
        if (auto put = (*client)->Put(store, key, "v" + std::to_string(i)); put.ok()) {
          std::lock_guard lock(mu);
          acked.push_back(key);
        } else {
          // The kernel went away (the caller may have killed it) or refused.
          std::fprintf(stderr, "node %zu: put %s: %s\n", on, key.c_str(), put.status().ToString().c_str());
          return;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return acked;
}

std::string ValueOf(Cluster& cluster, size_t on, const std::string& store, const std::string& key) {
  auto client = cluster.Client(on);
  if (!client.ok()) return "";
  auto got = (*client)->Get(store, key);
  if (!got.ok() || !got->found()) return "";
  return got->value();
}

absl::StatusOr<MeshWithHandPlayedMember> MakeMeshWithHandPlayedMember(size_t nodes) {
  MeshWithHandPlayedMember mesh;
  mesh.cluster = StartMesh(nodes);
  if (mesh.cluster == nullptr) return absl::InternalError("the mesh did not form");
  auto store = CreateStoreEverywhere(*mesh.cluster, 0, "notes", Range(nodes));
  if (!store.ok()) return store.status();
  mesh.store = *store;
  auto token = mesh.cluster->Invite(0);
  if (!token.ok()) return token.status();
  auto member = HandPlayedPeer::Join(*token);
  if (!member.ok()) return member.status();
  mesh.member = *std::move(member);
  return mesh;
}

}  // namespace lattice::testing
