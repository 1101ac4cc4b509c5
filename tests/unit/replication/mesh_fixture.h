// Several nodes in one process, each a real Node on its own temporary directory with a
// Replicator whose transport is the in-memory network (real handshakes and encryption,
// fault injection by node name): fast, deterministic multi-node tests of replication.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "leveldb/env.h"
#include "net/memory_transport.h"
#include "node/node.h"
#include "replication/replicator.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {

struct MeshNode {
  std::string name;
  TempDir dir;
  leveldb::Env* env = nullptr;  // the node's file system (NodeOptions::env); null: the real one
  std::unique_ptr<Node> node;
  std::unique_ptr<replication::Replicator> replicator;

  const std::string& id() const { return node->identity().public_key; }
};

class MeshTest : public ::testing::Test {
 protected:
  // Adds node `name` (started).
  MeshNode& AddNode(const std::string& name);
  // Starts (again) the node's Node and Replicator on its existing directory.
  void StartNode(MeshNode& n);
  void StopNode(MeshNode& n);
  // `joiner` joins the own mesh of `inviter`; asserts success.
  void Join(MeshNode& inviter, MeshNode& joiner);
  // A mesh of `count` nodes: the first invites the others.
  void MakeMesh(size_t count);

  // Creates a kv store in n0's mesh and waits until every node has it (and bootstrapped it).
  std::string CreateStore(const std::string& name);
  // The winning value of `key` in store `store` (name or id) on `n`, or "" when absent.
  std::string Get(MeshNode& n, const std::string& store, const std::string& key);
  void Put(MeshNode& n, const std::string& store, const std::string& key, const std::string& value);
  Store* StoreOf(MeshNode& n, const std::string& store);
  // True once every node in `nodes` has the same sync fingerprint, state hash and count
  // of store `store`, with nothing floating.
  bool Converged(const std::vector<MeshNode*>& nodes, const std::string& store);
  bool WaitConverged(const std::vector<MeshNode*>& nodes, const std::string& store,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::string Describe(const std::vector<MeshNode*>& nodes, const std::string& store);
  std::vector<MeshNode*> All();
  // Reconciliation, ticks and redials in tens or hundreds of milliseconds, so a test of
  // convergence takes seconds.
  void UseQuickTimings();

  replication::ReplicatorOptions options_;
  bool chunks_in_every_store_ = false;  // NodeOptions::chunks_in_every_store of new nodes
  std::shared_ptr<net::InMemoryNetwork> network_ = net::InMemoryNetwork::Create();
  std::vector<std::unique_ptr<MeshNode>> nodes_;

  void TearDown() override;
};

// Polls `condition` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace lattice::kernel::testing
