#include "unit/replication/mesh_fixture.h"

#include <thread>

#include "lattice/common/hex.h"
#include "state/kv_state.h"
#include "store/sync_snapshot.h"

namespace lattice::kernel::testing {

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

MeshNode& MeshTest::AddNode(const std::string& name) {
  auto n = std::make_unique<MeshNode>();
  n->name = name;
  nodes_.push_back(std::move(n));
  StartNode(*nodes_.back());
  return *nodes_.back();
}

void MeshTest::StartNode(MeshNode& n) {
  NodeOptions node_options;
  node_options.data_dir = n.dir.path();
  node_options.name = n.name;
  node_options.chunks_in_every_store = chunks_in_every_store_;
  node_options.env = n.env;
  auto node = Node::Open(node_options);
  ASSERT_TRUE(node.ok()) << node.status();
  n.node = *std::move(node);
  replication::ReplicatorOptions options = options_;
  options.listen_address = n.name + ":7470";
  auto network = network_;
  std::string name = n.name;
  auto replicator = replication::Replicator::Start(
      *n.node, options, [network, name](net::TransportConfig config) {
        return network->CreateTransport(name, std::move(config));
      });
  ASSERT_TRUE(replicator.ok()) << replicator.status();
  n.replicator = *std::move(replicator);
}

void MeshTest::StopNode(MeshNode& n) {
  n.replicator.reset();
  n.node.reset();
}

void MeshTest::TearDown() {
  for (auto& n : nodes_) n->replicator.reset();
  for (auto& n : nodes_) n->node.reset();
}

void MeshTest::Join(MeshNode& inviter, MeshNode& joiner) {
  auto invite = inviter.replicator->Invite(inviter.node->own_mesh_id(), 60'000);
  ASSERT_TRUE(invite.ok()) << invite.status();
  auto joined = joiner.replicator->Join(invite->token, joiner.name, std::chrono::seconds(20));
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->mesh_id, inviter.node->own_mesh_id());
}

void MeshTest::MakeMesh(size_t count) {
  for (size_t i = 0; i < count; ++i) AddNode("n" + std::to_string(i));
  for (size_t i = 1; i < count; ++i) Join(*nodes_[0], *nodes_[i]);
}

void MeshTest::UseQuickTimings() {
  options_.sync_interval = std::chrono::milliseconds(300);
  options_.tick = std::chrono::milliseconds(50);
  options_.min_dial_backoff = std::chrono::milliseconds(50);
  options_.max_dial_backoff = std::chrono::milliseconds(500);
}

std::vector<MeshNode*> MeshTest::All() {
  std::vector<MeshNode*> out;
  for (auto& n : nodes_) out.push_back(n.get());
  return out;
}

std::string MeshTest::CreateStore(const std::string& name) {
  auto d = nodes_[0]->node->CreateStore(name, StoreType::kKv, nodes_[0]->node->own_mesh_id());
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return "";
  std::string id = FormatStoreId(d->id);
  EXPECT_TRUE(Eventually([&] {
    for (auto& n : nodes_) {
      if (StoreOf(*n, id) == nullptr) return false;
      for (const auto& record : n->replicator->Bootstraps()) {
        if (FormatStoreId(record.store_id()) == id && !record.done()) return false;
      }
    }
    return true;
  })) << "the new store did not reach every node";
  return id;
}

Store* MeshTest::StoreOf(MeshNode& n, const std::string& store) {
  auto d = n.node->Resolve(store);
  if (!d.ok()) return nullptr;
  return n.node->StoreById(d->id);
}

std::string MeshTest::Get(MeshNode& n, const std::string& store, const std::string& key) {
  Store* s = StoreOf(n, store);
  if (s == nullptr) return "";
  auto heads = ReadHeads(s->db(), key);
  if (!heads.ok()) return "";
  KvRead read = ResolveHeads(*heads);
  return read.found ? read.winner.value() : "";
}

void MeshTest::Put(MeshNode& n, const std::string& store, const std::string& key,
                   const std::string& value) {
  Store* s = StoreOf(n, store);
  ASSERT_NE(s, nullptr) << n.name << " has no store " << store;
  ASSERT_TRUE(s->WriteKv({{key, value, false}}).ok());
}

namespace {

struct StoreFigures {
  bool present = false;
  uint64_t witnessed = 0;
  uint64_t floating = 0;
  std::string fingerprint;
  std::string state;
};

StoreFigures FiguresOf(MeshTest* test, MeshNode& n, Store* s) {
  StoreFigures f;
  if (s == nullptr) return f;
  f.present = true;
  f.witnessed = s->last_witness();
  f.floating = s->floating_count();
  auto snapshot = SyncSnapshot::Open(s->db());
  if (snapshot.ok()) {
    auto total = (*snapshot)->Total();
    if (total.ok()) {
      auto fp = sync::FingerprintOf(*total);
      f.fingerprint = ToHex(std::string_view(reinterpret_cast<const char*>(fp.data()), fp.size()));
    }
  }
  f.state = s->StateHash().value_or("");
  return f;
}

}  // namespace

bool MeshTest::Converged(const std::vector<MeshNode*>& nodes, const std::string& store) {
  std::optional<StoreFigures> first;
  for (MeshNode* n : nodes) {
    StoreFigures f = FiguresOf(this, *n, StoreOf(*n, store));
    if (!f.present || f.floating != 0) return false;
    if (!first) {
      first = f;
      continue;
    }
    if (f.fingerprint != first->fingerprint || f.state != first->state) return false;
  }
  return true;
}

bool MeshTest::WaitConverged(const std::vector<MeshNode*>& nodes, const std::string& store,
                             std::chrono::milliseconds timeout) {
  return Eventually([&] { return Converged(nodes, store); }, timeout);
}

std::string MeshTest::Describe(const std::vector<MeshNode*>& nodes, const std::string& store) {
  std::string out;
  for (MeshNode* n : nodes) {
    StoreFigures f = FiguresOf(this, *n, StoreOf(*n, store));
    out += n->name + ": " + (f.present ? "witnessed " + std::to_string(f.witnessed) + " floating " +
                                             std::to_string(f.floating) + " fp " +
                                             f.fingerprint.substr(0, 8) + " state " +
                                             f.state.substr(0, 8)
                                       : std::string("absent")) +
           "\n";
  }
  return out;
}

}  // namespace lattice::kernel::testing
