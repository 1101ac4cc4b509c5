// Real kernels on loopback against what a hostile or removed node does: an outsider, a
// revoked member whose writes are relayed by a node that learnt of the revocation late, and
// a member the test plays by hand that forges, breaks chains, forks and sends payloads no
// state machine can use.
#include <gtest/gtest.h>

#include <thread>

#include "harness/cluster.h"
#include "integration/hand_played_peer.h"
#include "integration/replication_support.h"
#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "net/tcp_transport.h"
#include "replication/invites.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

std::string Address(const HostPort& hp) { return hp.host + ":" + std::to_string(hp.port); }

TEST(ReplicationSecurity, ANodeOutsideTheMeshCannotConnectOrJoinWithAForgedInvite) {
  auto cluster = StartMesh(2);
  ASSERT_NE(cluster, nullptr);
  auto member = cluster->NodeId(0);
  ASSERT_TRUE(member.ok());
  // A stranger with a valid identity of its own dials a member: refused at the handshake.
  KeyPair stranger = GenerateKeyPair();
  kernel::net::TransportConfig config;
  config.identity = &stranger;
  kernel::net::TcpTransport transport(std::move(config));
  kernel::net::DialRequest request;
  request.address = Address(cluster->listen_address(0));
  request.expected_node_id = *FromHex(*member);
  auto link = transport.Dial(request);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), absl::StatusCode::kPermissionDenied) << link.status();
  // A token whose secret was guessed gets nowhere either.
  auto token = cluster->Invite(0);
  ASSERT_TRUE(token.ok());
  auto decoded = kernel::replication::DecodeInviteToken(*token);
  ASSERT_TRUE(decoded.ok());
  decoded->set_secret(RandomBytes(32));
  auto forged = HandPlayedPeer::Join(kernel::replication::EncodeInviteToken(*decoded));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kPermissionDenied) << forged.status();
}

TEST(ReplicationSecurity, ARevokedNodeIsCutOffAndItsLaterWritesAppearNowhereEvenRelayedLate) {
  auto cluster = StartMesh(3);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(3));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ(cluster->Ctl(2, {"kv", "put", *store, "before", "kept"}).exit_code, 0);
  ASSERT_TRUE(cluster->WaitForConvergence(*store, 30s).ok());
  auto revoked = cluster->NodeId(2);
  ASSERT_TRUE(revoked.ok());
  // Node 1 does not hear of the revocation until later, nor does node 2 (told, it would
  // write nothing).
  cluster->relay().Cut(0, 1);
  cluster->relay().Cut(0, 2);
  CommandResult revoke = cluster->Ctl(0, {"peer", "revoke", *revoked});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  ASSERT_EQ(cluster->Ctl(2, {"kv", "put", *store, "after", "void"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return ValueOf(*cluster, 1, *store, "after") == "void"; }, 30s))
      << "node 1, not yet told, takes the write";
  cluster->relay().Heal(0, 1);
  cluster->relay().Heal(0, 2);
  // Node 1 relays the write to node 0 and learns of the revocation: the write counts nowhere.
  ASSERT_TRUE(WaitFor([&] {
    return ValueOf(*cluster, 1, *store, "after").empty() &&
           cluster->relay().Connections(1, 2) == 0;
  }, 30s)) << cluster->LogTail(1);
  auto converged = cluster->WaitForConvergence(*store, {0, 1}, 30s);
  ASSERT_TRUE(converged.ok()) << converged;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(ValueOf(*cluster, i, *store, "after"), "") << "node " << i;
    EXPECT_EQ(ValueOf(*cluster, i, *store, "before"), "kept") << "its earlier history stays";
    auto peers = cluster->CtlJson(i, {"peer", "list"});
    ASSERT_TRUE(peers.ok());
    for (const auto& p : (*peers)["peers"]) {
      if (p["node_id"] == *revoked) {
        EXPECT_EQ(p["status"], "revoked");
        EXPECT_FALSE(p["connected"].get<bool>());
      }
    }
  }
  // The revoked node cannot get back in: it may still dial (a TCP connection through the
  // relay), but no member links with it.
  EXPECT_FALSE(WaitFor([&] {
    for (size_t i = 0; i < 2; ++i) {
      auto peers = cluster->CtlJson(i, {"peer", "list"});
      if (!peers.ok()) continue;
      for (const auto& p : (*peers)["peers"]) {
        if (p["node_id"] == *revoked && p["connected"].get<bool>()) return true;
      }
    }
    return false;
  }, 3s));
}

TEST(ReplicationSecurity, ForgedAndBrokenIntentionsGetThePeerDisconnectedWithNothingApplied) {
  auto mesh = MakeMeshWithHandPlayedMember(2);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  auto& cluster = mesh->cluster;
  const std::string& store = mesh->store;
  auto& evil = mesh->member;
  auto before = StoreStatus(*cluster, 0, store);
  ASSERT_TRUE(before.ok());
  // One honest write, then chains that skip (seq 3 and on citing seq 1 as their previous
  // intention), then forged signatures.
  v1::SignedIntention honest = evil->NextKv(store, "honest", "ok");
  std::vector<v1::SignedIntention> bad{honest};
  v1::KvPayload payload;
  payload.add_ops()->set_key("broken");
  for (int i = 0; i < 8; ++i) {
    bad.push_back(evil->At(store, 3 + i, Blake2b256(honest.body()), "kv.v1",
                              payload.SerializeAsString()));
  }
  for (int i = 0; i < 10; ++i) {
    v1::SignedIntention forged = evil->NextKv(store, "forged" + std::to_string(i), "x");
    forged.mutable_signature()->front() ^= 1;
    bad.push_back(forged);
  }
  ASSERT_TRUE(evil->Push(*evil->inviter_link(), store, bad).ok());
  ASSERT_TRUE(WaitFor([&] { return !evil->inviter_link()->open(); }, 20s))
      << "the kernel drops a peer that keeps sending invalid intentions";
  auto after = StoreStatus(*cluster, 0, store);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["witnessed"].get<uint64_t>(), (*before)["witnessed"].get<uint64_t>() + 1)
      << "only the honest write applied";
  EXPECT_EQ(ValueOf(*cluster, 0, store, "honest"), "ok");
  EXPECT_EQ(ValueOf(*cluster, 0, store, "broken"), "");
  EXPECT_EQ(ValueOf(*cluster, 0, store, "forged0"), "");
  EXPECT_NE(cluster->LogTail(0, 64 * 1024).find("misbehaviour"), std::string::npos);
}

TEST(ReplicationSecurity, AForkByAMemberConvergesEverywhereAndIsReported) {
  auto mesh = MakeMeshWithHandPlayedMember(3);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  auto& cluster = mesh->cluster;
  const std::string& store = mesh->store;
  auto& forker = mesh->member;
  // Once node 2 knows the forker as a member, it accepts a link from it.
  auto node2 = cluster->NodeId(2);
  ASSERT_TRUE(node2.ok());
  // Node 2 has bootstrapped the store from the other nodes first: a bootstrap it started from
  // the hand-played member, which answers none, would stall for a while (then continue from
  // another node: ReplicationTest.ABootstrapAPeerStallsContinuesFromAnotherPeer) and refuse
  // the reconciliations the fork needs meanwhile.
  auto bootstrapped = cluster->WaitForConvergence(store, 30s);
  ASSERT_TRUE(bootstrapped.ok()) << bootstrapped;
  std::shared_ptr<kernel::net::Link> to_node2;
  ASSERT_TRUE(WaitFor([&] {
    auto link = forker->Dial(Address(cluster->listen_address(2)), *node2);
    if (link.ok()) to_node2 = *link;
    return link.ok();
  }, 30s));
  // Two different intentions at seq 1: one to node 0, the other to node 2.
  v1::SignedIntention left = forker->NextKv(store, "k", "left");
  v1::SignedIntention right = forker->At(store, 1, "", "kv.v1", [] {
    v1::KvPayload p;
    p.add_ops()->set_key("k");
    p.mutable_ops(0)->set_value("right");
    return p.SerializeAsString();
  }());
  ASSERT_TRUE(forker->Push(*forker->inviter_link(), store, {left}).ok());
  ASSERT_TRUE(forker->Push(*to_node2, store, {right}).ok());
  auto converged = cluster->WaitForConvergence(store, 30s);
  ASSERT_TRUE(converged.ok()) << converged << "\n== node 0\n"
                              << cluster->LogTail(0, 6000) << "\n== node 2\n"
                              << cluster->LogTail(2, 6000);
  for (size_t i = 0; i < 3; ++i) {
    auto inspect = cluster->CtlJson(i, {"kv", "inspect", store, "k"});
    ASSERT_TRUE(inspect.ok());
    EXPECT_EQ((*inspect)["heads"].size(), 2u) << "both branches kept on node " << i;
    auto peers = cluster->CtlJson(i, {"peer", "list"});
    ASSERT_TRUE(peers.ok());
    bool reported = false;
    for (const auto& p : (*peers)["peers"]) {
      if (p["node_id"] == forker->id_hex()) reported = p.value("forked", false);
    }
    EXPECT_TRUE(reported) << "node " << i << " reports the forked member";
  }
}

TEST(ReplicationSecurity, AnUnusablePayloadIsANoOpAndLaterWritesOfEveryAuthorApply) {
  auto mesh = MakeMeshWithHandPlayedMember(2);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  auto& cluster = mesh->cluster;
  const std::string& store = mesh->store;
  auto& member = mesh->member;
  v1::SignedIntention poison = member->At(store, 1, "", "kv.v1", "\xff\xff not a kv payload");
  ASSERT_TRUE(member->Push(*member->inviter_link(), store, {poison}).ok());
  ASSERT_EQ(cluster->Ctl(1, {"kv", "put", store, "after-poison", "applies"}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(0, {"kv", "put", store, "also", "applies"}).exit_code, 0);
  auto converged = cluster->WaitForConvergence(store, 30s);
  ASSERT_TRUE(converged.ok()) << converged << "\n" << cluster->LogTail(0) << "\n"
                              << cluster->LogTail(1);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(ValueOf(*cluster, i, store, "after-poison"), "applies");
    EXPECT_EQ(ValueOf(*cluster, i, store, "also"), "applies");
    auto status = StoreStatus(*cluster, i, store);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ((*status)["noops"], 1) << "node " << i << ": " << status->dump() << "\n"
                                     << cluster->LogTail(i);
  }
}

TEST(ReplicationSecurity, ACaptureOfALinkShowsNoPlaintextOfAValue) {
  auto cluster = StartMesh(2);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "diary", {0, 1});
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr size_t kCaptureLimit = 4 << 20;
  cluster->relay().StartCapture(0, 1, kCaptureLimit);
  cluster->relay().StartCapture(1, 0, kCaptureLimit);
  const std::string key = "entries/plain-key-0f3c9a";
  const std::string value = "a value nobody on the wire may read: 7d41e2b9c0aa5f18";
  auto client = cluster->Client(0);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Put(*store, key, value).ok());
  ASSERT_TRUE(WaitFor([&] { return ValueOf(*cluster, 1, *store, key) == value; }, 30s));
  // Node 1 may still be acknowledging; what crossed so far is what a tap would have seen.
  std::string forward = cluster->relay().Captured(0, 1);
  std::string backward = cluster->relay().Captured(1, 0);
  // The value did cross this link (the capture is not empty and held at least its frame) ...
  ASSERT_GT(forward.size(), value.size());
  // ... but neither the value, nor a recognisable part of it, nor the key is readable.
  for (const std::string& captured : {forward, backward}) {
    EXPECT_EQ(captured.find(value), std::string::npos);
    EXPECT_EQ(captured.find("7d41e2b9c0aa5f18"), std::string::npos);
    EXPECT_EQ(captured.find("plain-key-0f3c9a"), std::string::npos);
    EXPECT_EQ(captured.find(*store), std::string::npos);
  }
}

}  // namespace
}  // namespace lattice::testing
