// Presence between real kernels on loopback (Store Protocol Presence service, PresenceGossip
// between nodes): what one kernel announces, a watch on another sees within moments, with
// its changes, its withdrawal and its expiry once nobody renews it; none of it enters the
// store. A member played by hand sends a forged and a foreign announcement, which no kernel
// keeps or relays, and a genuine one, which every kernel sees.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "harness/cluster.h"
#include "integration/replication_support.h"
#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/paths.h"
#include "lattice/v1/store_protocol.grpc.pb.h"
#include "presence/presence_signature.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kSeenWithin = 10s;

// A Presence stub on a kernel's socket with its admin cookie.
class PresenceClient {
 public:
  explicit PresenceClient(KernelProcess& kernel) {
    std::ifstream in(CookiePathForSocket(kernel.socket()));
    std::string cookie;
    std::getline(in, cookie);
    authorization_ = "Bearer " + std::string(absl::StripAsciiWhitespace(cookie));
    stub_ = v1::Presence::NewStub(
        grpc::CreateChannel("unix:" + kernel.socket(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Announce(const std::string& store, const std::string& key,
                        const std::string& value, uint32_t ttl_ms) {
    grpc::ClientContext context;
    Prepare(context);
    v1::AnnounceRequest request;
    request.set_store(store);
    request.set_key(key);
    request.set_value(value);
    request.set_ttl_ms(ttl_ms);
    v1::AnnounceResponse response;
    return stub_->Announce(&context, request, &response);
  }

  void Prepare(grpc::ClientContext& context) const {
    context.AddMetadata("authorization", authorization_);
    context.set_deadline(std::chrono::system_clock::now() + 60s);
  }
  v1::Presence::Stub& stub() { return *stub_; }

 private:
  std::string authorization_;
  std::unique_ptr<v1::Presence::Stub> stub_;
};

// One Presence.Watch read on a thread of its own; the test polls what it received.
class PresenceWatch {
 public:
  PresenceWatch(PresenceClient& client, const std::string& store, const std::string& prefix) {
    client.Prepare(context_);
    v1::PresenceWatchRequest request;
    request.set_store(store);
    request.set_prefix(prefix);
    reader_ = client.stub().Watch(&context_, request);
    thread_ = std::thread([this] {
      v1::PresenceWatchResponse response;
      while (reader_->Read(&response)) {
        std::lock_guard lock(mu_);
        responses_.push_back(response);
        cv_.notify_all();
      }
      std::lock_guard lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~PresenceWatch() {
    context_.TryCancel();
    thread_.join();
    (void)reader_->Finish();
  }

  // Waits until `pred` holds for the responses so far.
  bool WaitFor(const std::function<bool(const std::vector<v1::PresenceWatchResponse>&)>& pred,
               std::chrono::milliseconds timeout = kSeenWithin) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(responses_) || ended_; }) &&
           pred(responses_);
  }
  std::vector<v1::PresenceWatchResponse> responses() {
    std::lock_guard lock(mu_);
    return responses_;
  }
  // Every event after the snapshot responses, in order.
  std::vector<v1::PresenceEvent> Events() {
    std::vector<v1::PresenceEvent> out;
    for (const auto& r : responses()) {
      if (r.snapshot()) continue;
      out.insert(out.end(), r.events().begin(), r.events().end());
    }
    return out;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::PresenceWatchResponse>> reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::PresenceWatchResponse> responses_;
  bool ended_ = false;
  std::thread thread_;
};

// Whether some event (not a snapshot) says `node`'s `key` is `value`, or gone.
auto HasEvent(const std::string& node, const std::string& key, std::optional<std::string> value,
              bool gone) {
  return [=](const std::vector<v1::PresenceWatchResponse>& responses) {
    for (const auto& r : responses) {
      if (r.snapshot()) continue;
      for (const auto& e : r.events()) {
        if (e.entry().node() == node && e.entry().key() == key && e.gone() == gone &&
            (!value || e.entry().value() == *value)) {
          return true;
        }
      }
    }
    return false;
  };
}

size_t CountEvents(const std::vector<v1::PresenceEvent>& events, const std::string& key) {
  size_t n = 0;
  for (const auto& e : events) n += e.entry().key() == key;
  return n;
}

TEST(PresenceMeshTest, WhatOneKernelAnnouncesAnotherWatchesUntilWithdrawnOrExpired) {
  auto cluster = StartMesh(2);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "irc", Range(2), "chat");
  ASSERT_TRUE(store.ok()) << store.status();
  auto a_id = cluster->NodeId(0);
  ASSERT_TRUE(a_id.ok()) << a_id.status();
  auto b_client = cluster->Client(1);
  ASSERT_TRUE(b_client.ok()) << b_client.status();
  auto before = (*b_client)->StoreStatus(*store);
  ASSERT_TRUE(before.ok()) << before.status();

  PresenceClient a(cluster->kernel(0));
  PresenceClient b(cluster->kernel(1));
  PresenceWatch watch(b, *store, "member/");
  ASSERT_TRUE(watch.WaitFor([](const auto& r) { return !r.empty(); }));
  EXPECT_TRUE(watch.responses()[0].snapshot());
  EXPECT_EQ(watch.responses()[0].events_size(), 0);

  const std::string alice = "member/#lobby/alice";
  ASSERT_TRUE(a.Announce(*store, alice, "", 60'000).ok());
  EXPECT_TRUE(watch.WaitFor(HasEvent(*a_id, alice, "", false)))
      << "node 1 did not see node 0's announcement\n" << cluster->LogTail(1);
  // A renewal is no event; a new value is.
  ASSERT_TRUE(a.Announce(*store, alice, "", 60'000).ok());
  ASSERT_TRUE(a.Announce(*store, alice, "away", 60'000).ok());
  EXPECT_TRUE(watch.WaitFor(HasEvent(*a_id, alice, "away", false)));
  EXPECT_EQ(CountEvents(watch.Events(), alice), 2u);
  // Outside the watched prefix: not seen by that watch, but by one of its own prefix.
  {
    PresenceWatch away(b, *store, "away/");
    ASSERT_TRUE(away.WaitFor([](const auto& r) { return !r.empty(); }));
    ASSERT_TRUE(a.Announce(*store, "away/alice", "lunch", 60'000).ok());
    EXPECT_TRUE(away.WaitFor(HasEvent(*a_id, "away/alice", "lunch", false)));
  }

  // A watch opened now starts with what is live, with its time left.
  {
    PresenceWatch late(b, *store, "");
    ASSERT_TRUE(late.WaitFor([&](const auto& r) {
      return !r.empty() && r[0].snapshot() && r[0].events_size() == 2;
    })) << "the snapshot lacks node 0's entries";
    auto first = late.responses().at(0);
    for (const auto& e : first.events()) {
      EXPECT_EQ(e.entry().node(), *a_id);
      EXPECT_GT(e.entry().expires_in_ms(), 0u);
      EXPECT_LE(e.entry().expires_in_ms(), 60'000u);
      EXPECT_FALSE(e.gone());
    }
  }

  ASSERT_TRUE(a.Announce(*store, alice, "", 0).ok());
  EXPECT_TRUE(watch.WaitFor(HasEvent(*a_id, alice, std::nullopt, true)))
      << "node 1 did not see the withdrawal";

  // Announced once and never renewed: gone on node 1 once its ttl has run out.
  const std::string bob = "member/#lobby/bob";
  auto announced = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.Announce(*store, bob, "", 1000).ok());
  EXPECT_TRUE(watch.WaitFor(HasEvent(*a_id, bob, "", false)));
  EXPECT_TRUE(watch.WaitFor(HasEvent(*a_id, bob, std::nullopt, true)))
      << "node 1 kept an entry nobody renewed";
  EXPECT_GE(std::chrono::steady_clock::now() - announced, 900ms);
  for (const auto& e : watch.Events()) {
    EXPECT_EQ(e.entry().key().rfind("member/", 0), 0u) << e.entry().key();
  }

  // None of it is in the store: not in its log, not in a channel's history.
  auto after = (*b_client)->StoreStatus(*store);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->witnessed(), before->witnessed());
  auto history = (*b_client)->History(*store, "#lobby");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->messages_size(), 0);
}

TEST(PresenceMeshTest, AnnounceChecksRightsAndLimits) {
  auto cluster = StartMesh(1);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "irc", Range(1), "chat");
  ASSERT_TRUE(store.ok()) << store.status();
  PresenceClient a(cluster->kernel(0));
  EXPECT_EQ(a.Announce(*store, "", "v", 5000).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(a.Announce(*store, "k", "v", 10).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(a.Announce(*store, "k", std::string(2000, 'v'), 5000).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(a.Announce("no-such-store", "k", "v", 5000).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(a.Announce(*store, "k", "v", 5000).ok());

  // A token without the write right may watch but not announce.
  auto client = cluster->Client(0);
  ASSERT_TRUE(client.ok()) << client.status();
  v1::CreateTokenRequest token_request;
  token_request.set_name("watcher");
  token_request.add_stores(*store);
  token_request.add_rights("read");
  token_request.add_rights("watch");
  auto token = (*client)->CreateToken(token_request);
  ASSERT_TRUE(token.ok()) << token.status();
  auto stub = v1::Presence::NewStub(grpc::CreateChannel(
      "unix:" + cluster->kernel(0).socket(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token->token());
  v1::AnnounceRequest request;
  request.set_store(*store);
  request.set_key("k");
  request.set_ttl_ms(5000);
  v1::AnnounceResponse response;
  EXPECT_EQ(stub->Announce(&context, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(PresenceMeshTest, ForgedAndForeignAnnouncementsAreDroppedGenuineOnesRelayed) {
  auto mesh = MakeMeshWithHandPlayedMember(2);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  auto& cluster = *mesh->cluster;
  auto& member = *mesh->member;
  // Node 1 hears of the member through node 0's root store; wait until it counts it in.
  auto client1 = cluster.Client(1);
  ASSERT_TRUE(client1.ok()) << client1.status();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  bool known = false;
  while (!known && std::chrono::steady_clock::now() < deadline) {
    auto peers = (*client1)->ListPeers();
    if (peers.ok()) {
      for (const auto& p : peers->peers()) {
        known = known || (p.node_id() == member.id_hex() && p.status() == "active");
      }
    }
    if (!known) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(known) << "node 1 never saw the hand-played member become active";

  PresenceClient c0(cluster.kernel(0));
  PresenceClient c1(cluster.kernel(1));
  PresenceWatch watch0(c0, mesh->store, "");
  PresenceWatch watch1(c1, mesh->store, "");
  ASSERT_TRUE(watch0.WaitFor([](const auto& r) { return !r.empty(); }));
  ASSERT_TRUE(watch1.WaitFor([](const auto& r) { return !r.empty(); }));

  auto make = [&](const KeyPair& key, const std::string& k, uint64_t sequence) {
    v1::PresenceAnnouncement a;
    a.set_store_id(*ParseStoreId(mesh->store));
    a.set_key(k);
    a.set_value("here");
    a.set_ttl_ms(60'000);
    a.set_sequence(sequence);
    kernel::presence::SignAnnouncement(key, a);
    return a;
  };
  auto send = [&](const v1::PresenceAnnouncement& a) {
    v1::PeerMessage message;
    *message.mutable_presence()->add_entries() = a;
    return member.inviter_link()->Send(message.SerializeAsString(), 5000ms);
  };
  // Signed, then altered on the way.
  auto forged = make(member.key(), "member/#lobby/forged", 1);
  forged.set_value("not what was signed");
  ASSERT_TRUE(send(forged).ok());
  // Signed by a node that is no member of the mesh, relayed by a member.
  KeyPair stranger = GenerateKeyPair();
  ASSERT_TRUE(send(make(stranger, "member/#lobby/stranger", 1)).ok());
  // The member's own, last on the same link: once it is seen, the others were judged.
  ASSERT_TRUE(send(make(member.key(), "member/#lobby/genuine", 2)).ok());

  std::string member_hex = member.id_hex();
  EXPECT_TRUE(watch0.WaitFor(HasEvent(member_hex, "member/#lobby/genuine", "here", false)))
      << cluster.LogTail(0);
  // Node 1 has no link with the member: node 0 relayed it.
  EXPECT_TRUE(watch1.WaitFor(HasEvent(member_hex, "member/#lobby/genuine", "here", false)))
      << cluster.LogTail(1);
  for (auto* watch : {&watch0, &watch1}) {
    for (const auto& e : watch->Events()) {
      EXPECT_EQ(e.entry().key(), "member/#lobby/genuine") << "kept " << e.entry().key();
    }
  }
}

}  // namespace
}  // namespace lattice::testing
