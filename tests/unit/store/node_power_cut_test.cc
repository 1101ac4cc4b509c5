// A whole node on a file system that loses power (harness/fault_injection_env.h): what the
// node acknowledged (a store created, a token made, a chat post synced or applied and then
// covered by a sync barrier, an invite issued, a service's consent) is there after the cut, across rounds of concurrent work cut at random
// moments; and a node whose log fsyncs keep nothing is caught by the same rounds.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/fault_injection_env.h"
#include "dag/hlc.h"
#include "lattice/common/ids.h"
#include "net/invite_proof.h"
#include "node/node.h"
#include "replication/invites.h"
#include "services/service_book.h"
#include "state/chat_state.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using lattice::testing::FaultInjectionEnv;
using namespace std::chrono_literals;

uint64_t NowMs() { return HybridClock::SystemWallMs(); }

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// What the node acknowledged before the cut, by kind.
struct Acknowledged {
  std::set<std::string> stores;                  // names
  std::set<std::string> tokens;                  // secrets
  std::map<std::string, std::string> posts;      // text -> channel
  std::set<std::string> invites;                 // ids
  std::set<std::string> consents;                // service ids set to "always"
};

struct NodeCutOutcome {
  std::vector<std::string> problems;
  size_t acknowledged = 0;
};

// Each round opens the node, runs one thread per kind of work until `cut_after`
// acknowledgements, cuts the power, closes the node, restores power, reopens and checks
// everything acknowledged in this and every earlier round.
NodeCutOutcome RunNodePowerCutRounds(int rounds, uint32_t seed, bool drop_log_syncs) {
  NodeCutOutcome outcome;
  TempDir dir;
  FaultInjectionEnv fault;
  fault.IgnoreLogSyncs(drop_log_syncs);
  std::mt19937 rng(seed);
  auto open = [&]() {
    NodeOptions options;
    options.data_dir = dir.path();
    options.name = "cut";
    options.env = &fault;
    return Node::Open(options);
  };
  auto problem = [&](int round, std::string what) {
    outcome.problems.push_back("round " + std::to_string(round) + ": " + std::move(what));
  };

  Acknowledged acked;
  std::string chat_store;  // a chat store made before the rounds' posts
  for (int round = 0; round <= rounds; ++round) {
    auto opened = open();
    if (!opened.ok()) {
      problem(round, "the node does not open: " + std::string(opened.status().message()));
      return outcome;
    }
    std::unique_ptr<Node> node = *std::move(opened);
    const std::string mesh = node->own_mesh_id();

    // Check what earlier rounds had acknowledged.
    for (const auto& name : acked.stores) {
      if (!node->Resolve(name).ok()) problem(round, "store " + name + " was lost");
    }
    for (const auto& secret : acked.tokens) {
      if (!node->tokens().Authenticate(secret, NowMs()).ok()) {
        problem(round, "a token was lost");
      }
    }
    if (!chat_store.empty()) {
      Store* chat = node->StoreById(chat_store);
      std::set<std::string> texts;
      for (const auto& channel : {"#a", "#b"}) {
        auto page = chat ? ReadChatHistory(chat->db(), channel, 100000, "")
                         : absl::StatusOr<ChatPage>(absl::NotFoundError("no chat store"));
        if (!page.ok()) {
          problem(round, "chat history: " + std::string(page.status().message()));
          continue;
        }
        for (const auto& m : page->messages) texts.insert(m.text());
      }
      for (const auto& [text, channel] : acked.posts) {
        if (!texts.contains(text)) problem(round, "chat post " + text + " was lost");
      }
    }
    {
      replication::InviteBook invites(node->node_db());
      for (const auto& id : acked.invites) {
        if (!invites.Find(id)) problem(round, "an invite was lost");
      }
      ServiceBook book(node->node_db());
      for (const auto& service : acked.consents) {
        if (book.ConsentOf(FormatStoreId(mesh), service) != services::Consent::kAlways) {
          problem(round, "consent for " + service + " was lost");
        }
      }
    }
    if (round == rounds) break;

    if (chat_store.empty()) {
      auto made = node->CreateStore("talk", StoreType::kChat, mesh);
      if (!made.ok()) {
        problem(round, "the chat store: " + std::string(made.status().message()));
        return outcome;
      }
      chat_store = made->id;
      acked.stores.insert("talk");
    }
    Store* chat = node->StoreById(chat_store);
    
    std::mutex mutex;
    bool cut = false;  // guarded by mutex: acknowledgements after the cut do not count
    std::atomic<bool> stop{false};
    std::atomic<int> acks{0};
    replication::InviteBook invites(node->node_db());
    ServiceBook book(node->node_db());
    auto record = [&](const std::function<void()>& add) {
      std::lock_guard lock(mutex);
      if (cut) return;
      add();
      ++acks;
    };
    auto worker = [&](int kind) {
      for (int i = 0; !stop; ++i) {
        std::string tag = "r" + std::to_string(round) + "-" + std::to_string(i);
        switch (kind) {
          case 0: {
            std::string name = "s" + tag;
            if (node->CreateStore(name, i % 2 ? StoreType::kChat : StoreType::kKv, mesh).ok()) {
              record([&] { acked.stores.insert(name); });
            }
            break;
          }
          case 1: {
            auto token = node->tokens().Create("t" + tag, {FormatStoreId(chat_store)}, {},
                                               {"read"}, 0, NowMs());
            if (token.ok()) record([&] { acked.tokens.insert(token->secret); });
            break;
          }
          case 2: {
            v1::ChatPayload payload;
            payload.mutable_post()->set_channel(i % 2 ? "#a" : "#b");
            payload.mutable_post()->set_text("p" + tag);
            payload.mutable_post()->set_sender("me");
            if (chat && chat->WriteChat(payload).ok()) {
              record([&] { acked.posts["p" + tag] = payload.post().channel(); });
            }
            break;
          }
          case 5: {
            // Acknowledged once applied: counted once the store's sync barrier behind it
            // has returned.
            v1::ChatPayload payload;
            payload.mutable_post()->set_channel("#a");
            payload.mutable_post()->set_text("q" + tag);
            payload.mutable_post()->set_sender("me");
            if (chat && chat->WriteChat(payload, Durability::kAppliedThenSynced).ok() &&
                chat->Sync().ok()) {
              record([&] { acked.posts["q" + tag] = "#a"; });
            }
            break;
          }
          case 3: {
            auto invite = invites.Issue(mesh, NowMs(), 3'600'000);
            if (invite.ok()) record([&] { acked.invites.insert(invite->invite_id()); });
            break;
          }
          default: {
            std::string service = "svc-" + tag;
            if (book.SetConsent(FormatStoreId(mesh), service, services::Consent::kAlways).ok()) {
              record([&] { acked.consents.insert(service); });
            }
            break;
          }
        }
      }
    };
    std::vector<std::thread> workers;
    for (int kind = 0; kind < 6; ++kind) workers.emplace_back(worker, kind);
    int cut_after = 5 + static_cast<int>(rng() % 60);
    bool reached = WaitUntil([&] { return acks >= cut_after; }, 60'000ms);
    {
      std::lock_guard lock(mutex);
      cut = true;
      fault.CutPower();
    }
    stop = true;
    for (auto& t : workers) t.join();
    outcome.acknowledged += static_cast<size_t>(acks.load());
    node.reset();
    if (!reached) problem(round, "the workers did not get acknowledgements in time");
    if (auto restored = fault.RestorePower(); !restored.ok()) {
      problem(round, "power did not come back: " + std::string(restored.status().message()));
      return outcome;
    }
  }
  return outcome;
}

TEST(NodePowerCutTest, NothingTheNodeAcknowledgedIsLost) {
  NodeCutOutcome outcome = RunNodePowerCutRounds(8, 20261204, /*drop_log_syncs=*/false);
  EXPECT_TRUE(outcome.problems.empty()) << outcome.problems.size() << " problems, the first: "
                                        << outcome.problems.front();
  EXPECT_GT(outcome.acknowledged, 40u);
}

// The control: the same rounds on a node whose log fsyncs keep nothing find the loss. Were
// the test above unable to fail, this one would fail.
TEST(NodePowerCutTest, ANodeThatDropsItsFsyncsIsCaught) {
  NodeCutOutcome outcome = RunNodePowerCutRounds(3, 20261205, /*drop_log_syncs=*/true);
  EXPECT_FALSE(outcome.problems.empty())
      << "nothing acknowledged was lost although no log sync kept anything";
}

// Pruning expired invites is not synced: an invite a power cut brings back is still expired,
// so it admits no one.
TEST(NodePowerCutTest, APrunedInviteThatComesBackIsStillRefused) {
  TempDir dir;
  FaultInjectionEnv fault;
  NodeOptions options;
  options.data_dir = dir.path();
  options.env = &fault;
  auto node = Node::Open(options);
  ASSERT_TRUE(node.ok()) << node.status();
  std::string invite_id;
  std::string secret;
  uint64_t issued = NowMs();
  {
    replication::InviteBook invites((*node)->node_db());
    auto invite = invites.Issue((*node)->own_mesh_id(), issued, 1000);
    ASSERT_TRUE(invite.ok()) << invite.status();
    invite_id = invite->invite_id();
    secret = invite->secret();
    invites.Prune(issued + 2000);
    EXPECT_FALSE(invites.Find(invite_id));
  }
  fault.CutPower();
  node->reset();
  ASSERT_TRUE(fault.RestorePower().ok());
  node = Node::Open(options);
  ASSERT_TRUE(node.ok()) << node.status();
  replication::InviteBook invites((*node)->node_db());
  ASSERT_TRUE(invites.Find(invite_id)) << "the cut should have taken the unsynced prune";
  KeyPair joiner = GenerateKeyPair();
  const std::string transcript = "a handshake's transcript";
  auto mac = net::ComputeInviteMac(secret, invite_id, joiner.public_key, transcript);
  ASSERT_TRUE(mac.ok()) << mac.status();
  net::InviteProof proof(invite_id, *mac, joiner.public_key, transcript);
  auto redeemed = invites.Redeem(proof, issued + 2000);
  EXPECT_EQ(redeemed.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace lattice::kernel::testing
