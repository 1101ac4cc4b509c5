// Replication between nodes in one process over the in-memory transport: joins, gossip,
// anti-entropy after lost messages and partitions, dependency fetches, bootstrap, forks,
// unusable payloads and revocation.
#include <atomic>
#include <mutex>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/v1/replication.pb.h"
#include "state/kv_state.h"
#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

class ReplicationTest : public MeshTest {
 protected:
  void SetUp() override {
    UseQuickTimings();
    options_.misbehaviour_backoff = 2s;
  }
};

// Whether `viewer` has a live link to `peer`.
bool LinkedTo(MeshNode& viewer, MeshNode& peer) {
  for (const auto& view : viewer.replicator->Peers("")) {
    if (view.member.node_id == peer.id() && view.connected) return true;
  }
  return false;
}

TEST_F(ReplicationTest, JoinedNodesReplicateWritesBothWaysAndAgreeOnPeers) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  Put(*nodes_[1], store, "from-1", "one");
  Put(*nodes_[2], store, "from-2", "two");
  Put(*nodes_[0], store, "from-0", "zero");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  for (auto& n : nodes_) {
    EXPECT_EQ(Get(*n, store, "from-0"), "zero") << n->name;
    EXPECT_EQ(Get(*n, store, "from-1"), "one") << n->name;
    EXPECT_EQ(Get(*n, store, "from-2"), "two") << n->name;
  }
  // Every node lists the same three active members with their names.
  for (auto& n : nodes_) {
    std::set<std::string> names;
    for (const auto& view : n->replicator->Peers(nodes_[0]->node->own_mesh_id())) {
      if (view.member.status == "active") names.insert(view.member.name);
    }
    EXPECT_EQ(names, (std::set<std::string>{"n0", "n1", "n2"})) << n->name;
  }
}

TEST_F(ReplicationTest, AnInviteIsSingleUseAndExpires) {
  AddNode("a");
  AddNode("b");
  AddNode("c");
  auto invite = nodes_[0]->replicator->Invite(nodes_[0]->node->own_mesh_id(), 60'000);
  ASSERT_TRUE(invite.ok());
  ASSERT_TRUE(nodes_[1]->replicator->Join(invite->token, "b", 10s).ok());
  auto again = nodes_[2]->replicator->Join(invite->token, "c", 5s);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.status().message()), ::testing::HasSubstr("already used"));
  auto short_lived = nodes_[0]->replicator->Invite(nodes_[0]->node->own_mesh_id(), 1);
  ASSERT_TRUE(short_lived.ok());
  std::this_thread::sleep_for(5ms);  // the invite's own 1 ms lifetime, not a wait for an event
  auto expired = nodes_[2]->replicator->Join(short_lived->token, "c", 5s);
  ASSERT_FALSE(expired.ok());
  EXPECT_THAT(std::string(expired.status().message()), ::testing::HasSubstr("expired"));
}

TEST_F(ReplicationTest, ALostPushArrivesThroughPeriodicAntiEntropy) {
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->DropNextPayloads("n0", "n1", 1);
  Put(*nodes_[0], store, "lost", "but found");
  // Nothing else is written: only the periodic reconciliation can bring it.
  EXPECT_TRUE(Eventually([&] { return Get(*nodes_[1], store, "lost") == "but found"; }));
}

TEST_F(ReplicationTest, ALostPushIsRepairedWhileTheStoreIsNeverQuiet) {
  // Every push holds the store's reconciliations for a minute (sync_hold.h): only the bound
  // on the hold, one sync interval past due, lets anti-entropy run while n0 keeps writing.
  options_.sync_settle = 60s;
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->DropNextPayloads("n0", "n1", 1);
  Put(*nodes_[0], store, "lost", "but found");
  int written = 0;
  EXPECT_TRUE(Eventually([&] {
    Put(*nodes_[0], store, "busy-" + std::to_string(written++), "x");
    return Get(*nodes_[1], store, "lost") == "but found";
  }));
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
}

TEST_F(ReplicationTest, PartitionedWritesConvergeAfterHealWithConflictsEverywhere) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->Cut("n2", "n0");
  network_->Cut("n2", "n1");
  Put(*nodes_[0], store, "same", "from the majority");
  Put(*nodes_[2], store, "same", "from the minority");
  Put(*nodes_[1], store, "left", "l");
  Put(*nodes_[2], store, "right", "r");
  ASSERT_TRUE(WaitConverged({nodes_[0].get(), nodes_[1].get()}, store));
  EXPECT_EQ(Get(*nodes_[0], store, "right"), "");
  network_->Heal("n2", "n0");
  network_->Heal("n2", "n1");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  std::set<std::string> heads_seen;
  for (auto& n : nodes_) {
    EXPECT_EQ(Get(*n, store, "left"), "l");
    EXPECT_EQ(Get(*n, store, "right"), "r");
    auto heads = ReadHeads(StoreOf(*n, store)->db(), "same");
    ASSERT_TRUE(heads.ok());
    EXPECT_EQ(heads->heads_size(), 2) << n->name << " should show the conflict";
    std::string both;
    for (const auto& h : heads->heads()) both += ToHex(h.hash());
    heads_seen.insert(both);
  }
  EXPECT_EQ(heads_seen.size(), 1u) << "the same heads, in the same order, on every node";
}

TEST_F(ReplicationTest, AStarOfOneHubAndFourLeavesConverges) {
  MakeMesh(5);  // n0 is the hub: every leaf joined through it
  std::string store = CreateStore("notes");
  // Leaves reach each other only through the hub.
  for (int a = 1; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) network_->Cut("n" + std::to_string(a), "n" + std::to_string(b));
  }
  for (int i = 1; i < 5; ++i) Put(*nodes_[i], store, "leaf" + std::to_string(i), "v");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  for (auto& n : nodes_) {
    for (int i = 1; i < 5; ++i) EXPECT_EQ(Get(*n, store, "leaf" + std::to_string(i)), "v");
  }
}

TEST_F(ReplicationTest, AMissingDependencyOfAnotherAuthorIsFetched) {
  // No periodic reconciliation: only the fetch of the missing dependency can fill the gap.
  options_.sync_interval = std::chrono::hours(1);
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  // n1's write never reaches n2 directly, and n0's push of it to n2 is lost too; n0 then
  // writes on top of it, so n2 receives an intention whose dependency it lacks.
  network_->Cut("n1", "n2");
  // Once n1 knows the link is gone: a push sent on a link not yet seen closed would name n2
  // as reached, n0 would not forward it, and the dropped payload would be n0's next push.
  ASSERT_TRUE(Eventually([&] { return !LinkedTo(*nodes_[1], *nodes_[2]); }));
  network_->DropNextPayloads("n0", "n2", 1);
  Put(*nodes_[1], store, "base", "b");
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[0], store, "base") == "b"; }));
  Put(*nodes_[0], store, "top", "t");
  EXPECT_TRUE(Eventually([&] {
    return Get(*nodes_[2], store, "top") == "t" && Get(*nodes_[2], store, "base") == "b";
  }));
  EXPECT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
}

TEST_F(ReplicationTest, AStoppedNodeCatchesUpAndAJoinerBootstrapsEverything) {
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  StopNode(*nodes_[1]);
  for (int i = 0; i < 300; ++i) Put(*nodes_[0], store, "k" + std::to_string(i), "v");
  StartNode(*nodes_[1]);
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  EXPECT_EQ(Get(*nodes_[1], store, "k299"), "v");
  // A third node joins later and receives the root and the store by bootstrap.
  AddNode("late");
  Join(*nodes_[0], *nodes_.back());
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  ASSERT_TRUE(WaitConverged(All(), FormatStoreId(nodes_[0]->node->own_mesh_id())));
  // The store came by bootstrap (its progress is saved just after the last chunk applies).
  EXPECT_TRUE(Eventually([&] {
    for (const auto& record : nodes_.back()->replicator->Bootstraps()) {
      if (FormatStoreId(record.store_id()) == store) return record.done() && record.received() == 300;
    }
    return false;
  }));
}

TEST_F(ReplicationTest, ABootstrapAPeerStallsContinuesFromAnotherPeer) {
  options_.bootstrap_stall_timeout = 1s;
  MakeMesh(3);
  MeshNode& late = *nodes_[2];
  const std::string root = nodes_[0]->node->own_mesh_id();
  // Whichever of n0 and n1 is first asked for a chunk of a store other than the root stops
  // answering them (a peer that lies about holding the store, or one that hangs): the
  // bootstrap must not be asked of it again and again.
  struct Mute {
    std::mutex mu;
    std::string name;
  };
  auto mute = std::make_shared<Mute>();  // shared: the filters outlive this body until TearDown
  for (int i = 0; i < 2; ++i) {
    std::string from = nodes_[i]->name;
    network_->DropPayloadsWhere(from, late.name, [mute, root, from](std::string_view payload) {
      v1::PeerMessage message;
      if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ||
          !message.has_chunk() || message.chunk().store_id() == root) {
        return false;
      }
      std::lock_guard lock(mute->mu);
      if (mute->name.empty()) mute->name = from;
      return mute->name == from;
    });
  }
  auto made = nodes_[0]->node->CreateStore("notes", StoreType::kKv, root);
  ASSERT_TRUE(made.ok()) << made.status();
  const std::string store = FormatStoreId(made->id);
  for (int i = 0; i < 50; ++i) Put(*nodes_[0], store, "k" + std::to_string(i), "v");
  ASSERT_TRUE(WaitConverged(All(), store, 30s)) << Describe(All(), store);
  EXPECT_EQ(Get(late, store, "k49"), "v");
  std::string mute_id;
  {
    std::lock_guard lock(mute->mu);
    ASSERT_FALSE(mute->name.empty()) << "no bootstrap chunk was held back";
    mute_id = mute->name == nodes_[0]->name ? nodes_[0]->id() : nodes_[1]->id();
  }
  // The writes may converge first through the live pushes; the bootstrap itself must end
  // too, and from the other peer.
  std::string source;
  auto bootstrapped = [&] {
    for (const auto& record : late.replicator->Bootstraps()) {
      if (record.store_id() != made->id) continue;
      source = record.source();
      return record.done();
    }
    return false;
  };
  ASSERT_TRUE(Eventually(bootstrapped, 30s)) << "the bootstrap never ended";
  EXPECT_NE(source, mute_id) << "the bootstrap finished from the peer that stalled it";
}

TEST_F(ReplicationTest, ADifferenceTooLargeForOneSessionIsReconciledBySeveralInTurn) {
  // Small frames and a small message budget per Negentropy session; no periodic
  // reconciliation, so each side's writes made apart can only come through the
  // reconciliation that follows the reconnection, which needs many sessions.
  options_.sync_interval = std::chrono::hours(1);
  options_.negentropy.frame_size_limit = sync::limits::kMinFrameSizeLimit;
  options_.negentropy.max_rounds = 8;
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->Cut("n0", "n1");
  ASSERT_TRUE(Eventually([&] {
    return !LinkedTo(*nodes_[0], *nodes_[1]) && !LinkedTo(*nodes_[1], *nodes_[0]);
  }));
  constexpr int kWritesPerSide = 1500;
  std::atomic<int> pending{2 * kWritesPerSide};
  std::atomic<int> failed{0};
  for (int i = 0; i < kWritesPerSide; ++i) {
    for (int side = 0; side < 2; ++side) {
      StoreOf(*nodes_[side], store)
          ->WriteKvAsync({{"k" + std::to_string(side) + "-" + std::to_string(i), "v", false}},
                         [&](absl::StatusOr<WriteReceipt> receipt) {
                           if (!receipt.ok()) ++failed;
                           --pending;
                         });
    }
  }
  ASSERT_TRUE(Eventually([&] { return pending == 0; }));
  ASSERT_EQ(failed, 0);
  network_->Heal("n0", "n1");
  ASSERT_TRUE(WaitConverged(All(), store, 60s)) << Describe(All(), store);
  for (auto& n : nodes_) {
    EXPECT_EQ(Get(*n, store, "k0-" + std::to_string(kWritesPerSide - 1)), "v") << n->name;
    EXPECT_EQ(Get(*n, store, "k1-" + std::to_string(kWritesPerSide - 1)), "v") << n->name;
  }
  // Another reconciliation now finds nothing, in one session. (The stores can agree while
  // the reconciliation that brought them together is still ending its last session, and a
  // SyncNow then waits for that one and reports its sessions: the second is a new one.)
  auto reports = nodes_[0]->replicator->SyncNow(*ParseStoreId(store), "", 30s);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].ok) << reports[0].error;
  reports = nodes_[0]->replicator->SyncNow(*ParseStoreId(store), "", 30s);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].ok) << reports[0].error;
  EXPECT_EQ(reports[0].sessions, 1u);
  EXPECT_EQ(reports[0].needed + reports[0].had, 0u);
}

// A write acknowledged once applied (not yet synced) is in the sync index at once, so a
// reconciliation finds it; but no peer may receive it before it is durable on its author,
// who could otherwise lose it in a power cut and sign another intention in its place (a fork
// its peers would blame on it). `initiator_is_author`: the author finds the difference and
// pushes; otherwise the peer finds it and fetches.
class AppliedWriteTest : public ReplicationTest,
                         public ::testing::WithParamInterface<bool> {};

TEST_P(AppliedWriteTest, APeerReceivesAnAppliedWriteOnlyOnceItIsDurable) {
  options_.sync_interval = std::chrono::hours(1);  // only the reconciliation below
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  Store* author = StoreOf(*nodes_[0], store);
  Store* peer = StoreOf(*nodes_[1], store);
  std::mutex mutex;
  std::string wanted;
  std::optional<uint64_t> durable_when_received;  // the author's, when the peer had it
  uint64_t subscription = peer->Subscribe([&](const std::vector<DecodedIntention>& applied) {
    std::lock_guard lock(mutex);
    for (const auto& intention : applied) {
      if (intention.hash == wanted && !durable_when_received) {
        durable_when_received = author->durable_witness();
      }
    }
  });
  bool initiator_is_author = GetParam();
  MeshNode& initiator = *nodes_[initiator_is_author ? 0 : 1];
  MeshNode& responder = *nodes_[initiator_is_author ? 1 : 0];
  // Once the store's bootstrap is over (a bootstrapping node declines reconciliations) and
  // no reconciliation from the link's start is running, which would take the one below in.
  std::string warmup_error;
  ASSERT_TRUE(Eventually([&] {
    auto warmup = initiator.replicator->SyncNow(*ParseStoreId(store), responder.id(), 10s);
    warmup_error = warmup.empty() ? "no report" : warmup[0].error;
    return warmup.size() == 1 && warmup[0].ok;
  })) << warmup_error;
  // And none starts any more: the first after the bootstrap is over, the next an hour away.
  ASSERT_TRUE(Eventually([&] {
    for (MeshNode* n : All()) {
      for (const auto& state : n->replicator->SyncStateOf(*ParseStoreId(store))) {
        if (state.in_progress || HybridClock::SystemWallMs() < state.last_started_ms + 300) {
          return false;
        }
      }
    }
    return true;
  }));
  {
    std::lock_guard lock(mutex);
    auto receipt = author->WriteKv({{"applied", "only"}}, Durability::kApplied);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    wanted = receipt->hash;
  }
  uint64_t witness = author->last_witness();
  auto reports = initiator.replicator->SyncNow(*ParseStoreId(store), responder.id(), 10s);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].ok) << reports[0].error;
  EXPECT_EQ(reports[0].needed + reports[0].had, 1u)
      << "needed " << reports[0].needed << ", had " << reports[0].had << ", sessions "
      << reports[0].sessions << ", peer has it: " << (Get(*nodes_[1], store, "applied") == "only");
  EXPECT_TRUE(Eventually([&] { return Get(*nodes_[1], store, "applied") == "only"; }));
  peer->Unsubscribe(subscription);
  std::lock_guard lock(mutex);
  ASSERT_TRUE(durable_when_received.has_value());
  EXPECT_GE(*durable_when_received, witness);
}

INSTANTIATE_TEST_SUITE_P(Reconciliation, AppliedWriteTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "AuthorPushes" : "PeerFetches";
                         });

// A member whose key the test holds, so it can sign what a misbehaving node would.
class MemberAuthor {
 public:
  MemberAuthor(MeshTest* test, MeshNode& admitter, const std::string& store_id)
      : author_(*ParseStoreId(store_id)) {
    Store* root = admitter.node->RootOf(admitter.node->own_mesh_id());
    EXPECT_TRUE(root->WriteKv({{"/nodes/" + ToHex(author_.id()) + "/status", "active", false}}).ok());
  }
  ForeignAuthor& author() { return author_; }

 private:
  ForeignAuthor author_;
};

std::string IdOf(const std::string& formatted) { return *ParseStoreId(formatted); }

TEST_F(ReplicationTest, ARevokedNodeIsCutOffAndItsLaterWritesCountNowhere) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  Put(*nodes_[2], store, "before", "kept");
  ASSERT_TRUE(WaitConverged(All(), store));
  std::string mesh = nodes_[0]->node->own_mesh_id();
  ASSERT_TRUE(nodes_[0]->replicator->Revoke(mesh, nodes_[2]->id()).ok());
  // Every other node learns it and drops the revoked node's link.
  ASSERT_TRUE(Eventually([&] {
    for (int i = 0; i < 2; ++i) {
      auto member = nodes_[i]->node->Member(mesh, nodes_[2]->id());
      if (!member || member->status != "revoked") return false;
      for (const auto& view : nodes_[i]->replicator->Peers(mesh)) {
        if (view.member.node_id == nodes_[2]->id() && view.connected) return false;
      }
    }
    return true;
  }));
  // It was told before its links dropped: its writes are refused, naming the revocation.
  ASSERT_TRUE(Eventually([&] {
    auto self = nodes_[2]->node->Member(mesh, nodes_[2]->id());
    return self && self->status == "revoked" && self->revoked_by == nodes_[0]->id();
  }));
  auto refused = StoreOf(*nodes_[2], store)->WriteKv({{"after", "void", false}});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_NE(refused.status().message().find("revoked"), std::string::npos) << refused.status();
  Put(*nodes_[0], store, "later", "still works");
  ASSERT_TRUE(WaitConverged({nodes_[0].get(), nodes_[1].get()}, store));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Get(*nodes_[i], store, "before"), "kept") << "its earlier history stays";
    EXPECT_EQ(Get(*nodes_[i], store, "after"), "");
    EXPECT_EQ(Get(*nodes_[i], store, "later"), "still works");
  }
  // It cannot come back on its own.
  nodes_[2]->replicator->Kick();
  EXPECT_FALSE(Eventually([&] { return nodes_[2]->replicator->connected_count() > 0; }, 1500ms));
}

TEST_F(ReplicationTest, WritesOfARevokedNodeRelayedByALateNodeBecomeVoidThere) {
  MakeMesh(3);  // n0 revokes; n1 learns late; n2 is revoked
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  std::string mesh = nodes_[0]->node->own_mesh_id();
  network_->Cut("n0", "n1");
  network_->Cut("n0", "n2");  // or n0 would tell n2, which would then write nothing
  ASSERT_TRUE(nodes_[0]->replicator->Revoke(mesh, nodes_[2]->id()).ok());
  Put(*nodes_[2], store, "sneaky", "write");
  // n1 has not heard of the revocation: it takes the write.
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[1], store, "sneaky") == "write"; }));
  network_->Heal("n0", "n1");
  // n1 relays the write to n0, which knows better; n1 learns of the revocation and voids it.
  ASSERT_TRUE(Eventually([&] {
    return Get(*nodes_[1], store, "sneaky").empty() &&
           StoreOf(*nodes_[0], store)->last_witness() == StoreOf(*nodes_[1], store)->last_witness();
  })) << Describe(All(), store);
  ASSERT_TRUE(WaitConverged({nodes_[0].get(), nodes_[1].get()}, store)) << Describe(All(), store);
  EXPECT_EQ(Get(*nodes_[0], store, "sneaky"), "");
  EXPECT_GE(StoreOf(*nodes_[0], store)->noop_count(), 1u) << "kept, as a void record";
}

TEST_F(ReplicationTest, AForkConvergesEverywhereAndIsReported) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  MemberAuthor forker(this, *nodes_[0], store);
  ASSERT_TRUE(WaitConverged(All(), FormatStoreId(nodes_[0]->node->own_mesh_id())));
  // Two different intentions at seq 1, one given to n0 and the other to n2.
  DecodedIntention left = forker.author().At(1, "", kOpKv, KvPayloadOf("k", "left"));
  DecodedIntention right = forker.author().At(1, "", kOpKv, KvPayloadOf("k", "right"));
  ASSERT_EQ(StoreOf(*nodes_[0], store)->Ingest({left.signed_intention})[0].kind, IngestOutcome::Kind::kApplied);
  ASSERT_EQ(StoreOf(*nodes_[2], store)->Ingest({right.signed_intention})[0].kind, IngestOutcome::Kind::kApplied);
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  std::string mesh = nodes_[0]->node->own_mesh_id();
  for (auto& n : nodes_) {
    auto heads = ReadHeads(StoreOf(*n, store)->db(), "k");
    ASSERT_TRUE(heads.ok());
    EXPECT_EQ(heads->heads_size(), 2) << "both branches are kept";
    EXPECT_EQ(StoreOf(*n, store)->ForkProofs()->size(), 1u) << n->name;
    bool reported = false;
    for (const auto& view : n->replicator->Peers(mesh)) {
      if (view.member.node_id == forker.author().id()) reported = view.forked;
    }
    EXPECT_TRUE(reported) << n->name;
  }
}

TEST_F(ReplicationTest, AnUnusablePayloadIsANoOpEverywhereAndLaterWritesKeepApplying) {
  MakeMesh(2);
  std::string store = CreateStore("notes");
  MemberAuthor member(this, *nodes_[0], store);
  ASSERT_TRUE(WaitConverged(All(), FormatStoreId(nodes_[0]->node->own_mesh_id())));
  DecodedIntention poison = member.author().Next(kOpKv, "\xff\xff not a kv payload");
  ASSERT_EQ(StoreOf(*nodes_[0], store)->Ingest({poison.signed_intention})[0].kind,
            IngestOutcome::Kind::kApplied);
  DecodedIntention next = member.author().NextKv("after-poison", "fine");
  ASSERT_EQ(StoreOf(*nodes_[0], store)->Ingest({next.signed_intention})[0].kind,
            IngestOutcome::Kind::kApplied);
  Put(*nodes_[1], store, "other", "author");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  for (auto& n : nodes_) {
    EXPECT_EQ(Get(*n, store, "after-poison"), "fine");
    EXPECT_EQ(Get(*n, store, "other"), "author");
    EXPECT_EQ(StoreOf(*n, store)->noop_count(), 1u) << n->name;
  }
}

// A node the test plays by hand: a member of n0's mesh that dials n0 and sends raw payloads.
struct HandPlayedPeer {
  KeyPair key = GenerateKeyPair();
  std::unique_ptr<net::Transport> transport;
  std::shared_ptr<net::Link> link;
};

std::unique_ptr<HandPlayedPeer> DialAsMember(net::InMemoryNetwork& network, MeshNode& target,
                                             const std::string& name) {
  auto peer = std::make_unique<HandPlayedPeer>();
  Store* root = target.node->RootOf(target.node->own_mesh_id());
  EXPECT_TRUE(root->WriteKv({{"/nodes/" + ToHex(peer->key.public_key) + "/status", "active", false}}).ok());
  net::TransportConfig config;
  config.identity = &peer->key;
  peer->transport = network.CreateTransport(name, std::move(config));
  net::DialRequest request;
  request.address = target.name + ":7470";
  request.expected_node_id = target.id();
  auto link = peer->transport->Dial(request);
  EXPECT_TRUE(link.ok()) << link.status();
  if (link.ok()) {
    peer->link = *std::move(link);
    peer->link->Start({[](std::string) {}, [](const absl::Status&) {}});
  }
  return peer;
}

TEST_F(ReplicationTest, APeerSendingForgedIntentionsIsDisconnectedAndNothingApplies) {
  MakeMesh(1);
  std::string store = CreateStore("notes");
  auto evil = DialAsMember(*network_, *nodes_[0], "evil");
  ASSERT_NE(evil->link, nullptr);
  ForeignAuthor author(IdOf(store), evil->key);
  uint64_t before = StoreOf(*nodes_[0], store)->last_witness();
  v1::PeerMessage push;
  push.mutable_push()->set_store_id(IdOf(store));
  for (int i = 0; i < 20; ++i) {
    DecodedIntention forged = author.NextKv("forged" + std::to_string(i), "x");
    v1::SignedIntention bad = forged.signed_intention;
    bad.mutable_signature()->front() ^= 1;
    *push.mutable_push()->add_intentions() = bad;
  }
  ASSERT_TRUE(evil->link->Send(push.SerializeAsString()).ok());
  EXPECT_TRUE(Eventually([&] { return !evil->link->open(); }))
      << "n0 drops the link after too many invalid intentions";
  EXPECT_EQ(StoreOf(*nodes_[0], store)->last_witness(), before);
  EXPECT_EQ(Get(*nodes_[0], store, "forged0"), "");
  // And refuses the peer for a while.
  net::DialRequest again;
  again.address = "n0:7470";
  again.expected_node_id = nodes_[0]->id();
  auto refused = evil->transport->Dial(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("misbehaviour"));
}

TEST_F(ReplicationTest, GarbageFramesGetAPeerDisconnected) {
  MakeMesh(1);
  auto evil = DialAsMember(*network_, *nodes_[0], "evil");
  ASSERT_NE(evil->link, nullptr);
  for (int i = 0; i < 40 && evil->link->open(); ++i) {
    (void)evil->link->Send("\x07garbage that is no message");
  }
  EXPECT_TRUE(Eventually([&] { return !evil->link->open(); }));
  EXPECT_EQ(evil->link->close_reason().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(evil->link->close_reason().message()), ::testing::HasSubstr("invalid"));
}

}  // namespace
}  // namespace lattice::kernel::testing
