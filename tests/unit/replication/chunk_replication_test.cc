// Chunks between nodes in one process over the in-memory transport: a node that applies an
// intention citing chunks it lacks fetches them from its peers, checks each against its hash,
// and cuts off a peer that sends bytes that do not match.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include "lattice/common/chunker.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/v1/fs.pb.h"
#include "replication/peer_message.h"
#include "store/chunk_wants.h"
#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

std::string PseudoRandom(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 7;
  for (size_t i = 0; i < size; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<char>(state >> 56);
  }
  return out;
}

// `content` cut as a writer cuts it.
std::vector<std::string> Chunk(std::string_view content) {
  Chunker chunker;
  std::vector<std::string> chunks;
  while (!content.empty()) {
    size_t cut = chunker.NextCut(content);
    chunks.emplace_back(content.substr(0, cut));
    content.remove_prefix(cut);
  }
  return chunks;
}

std::string FsWritePayload(const std::vector<std::string>& chunks) {
  v1::FsPayload payload;
  v1::FsWrite* write = payload.add_ops()->mutable_write();
  write->set_inode(42);
  uint64_t size = 0;
  for (const auto& chunk : chunks) {
    v1::FsExtent* extent = write->add_extents();
    extent->set_hash(ChunkHash(chunk));
    extent->set_length(chunk.size());
    size += chunk.size();
  }
  write->set_size(size);
  return payload.SerializeAsString();
}

// Makes `key` an active member of n's mesh (written in its root store).
void MakeMember(MeshNode& n, const KeyPair& key) {
  Store* root = n.node->RootOf(n.node->own_mesh_id());
  ASSERT_TRUE(root->WriteKv({{"/nodes/" + ToHex(key.public_key) + "/status", "active", false}}).ok());
}

bool LinkedTo(MeshNode& viewer, MeshNode& peer) {
  for (const auto& view : viewer.replicator->Peers("")) {
    if (view.member.node_id == peer.id() && view.connected) return true;
  }
  return false;
}

class ChunkReplicationTest : public MeshTest {
 protected:
  void SetUp() override {
    UseQuickTimings();
    options_.misbehaviour_backoff = 5s;
    // Until fs stores exist, every store keeps chunks: the wants do not depend on the
    // state machine.
    chunks_in_every_store_ = true;
  }
};

TEST_F(ChunkReplicationTest, ANodeFetchesTheChunksThatAppliedIntentionsCite) {
  MakeMesh(2);
  std::string store = CreateStore("files");
  MeshNode& a = *nodes_[0];
  MeshNode& b = *nodes_[1];
  KeyPair writer = GenerateKeyPair();
  MakeMember(a, writer);
  std::string mesh = FormatStoreId(a.node->own_mesh_id());
  ASSERT_TRUE(WaitConverged(All(), mesh)) << Describe(All(), mesh);

  // A writes a 3 MiB file: its chunks first, then the intention citing them.
  std::string content = PseudoRandom(3 << 20, 1);
  auto chunks = Chunk(content);
  ASSERT_GT(chunks.size(), 10u);
  for (const auto& chunk : chunks) {
    ASSERT_TRUE(StoreOf(a, store)->chunks()->Put(ChunkHash(chunk), chunk).ok());
  }
  ForeignAuthor author(StoreOf(a, store)->id(), writer);
  DecodedIntention version = author.Next(kOpFs, FsWritePayload(chunks));
  ASSERT_EQ(StoreOf(a, store)->Ingest({version.signed_intention}).at(0).kind,
            IngestOutcome::Kind::kApplied);
  EXPECT_TRUE(StoreOf(a, store)->WantedChunks(10)->empty());

  // B applies it from A, wants the chunks, and fetches every one.
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  ASSERT_TRUE(Eventually([&] {
    auto wanted = StoreOf(b, store)->WantedChunks(10);
    return wanted.ok() && wanted->empty() && StoreOf(b, store)->chunks()->chunk_count() == chunks.size();
  })) << "B still wants " << StoreOf(b, store)->WantedChunks(1000)->size() << " chunks";
  std::string copied;
  for (const auto& chunk : chunks) {
    auto read = StoreOf(b, store)->chunks()->Read(ChunkHash(chunk), 0, chunk.size());
    ASSERT_TRUE(read.ok()) << read.status();
    copied += *read;
  }
  EXPECT_EQ(copied, content);
  auto received = b.replicator->chunk_stats();
  EXPECT_EQ(received.chunks_received, chunks.size());
  EXPECT_EQ(received.bytes_received, content.size());  // each chunk once
  EXPECT_EQ(a.replicator->chunk_stats().bytes_served, content.size());
  EXPECT_EQ(received.peers_cut_off, 0u);
}

TEST_F(ChunkReplicationTest, ChunksAWriterOnlyLaterHoldsAreFetchedOnceItHasThem) {
  MakeMesh(2);
  std::string store = CreateStore("files");
  MeshNode& a = *nodes_[0];
  MeshNode& b = *nodes_[1];
  KeyPair writer = GenerateKeyPair();
  MakeMember(a, writer);
  std::string mesh = FormatStoreId(a.node->own_mesh_id());
  ASSERT_TRUE(WaitConverged(All(), mesh)) << Describe(All(), mesh);
  std::string chunk = PseudoRandom(100'000, 2);
  ForeignAuthor author(StoreOf(a, store)->id(), writer);
  DecodedIntention version = author.Next(kOpFs, FsWritePayload({chunk}));
  ASSERT_EQ(StoreOf(a, store)->Ingest({version.signed_intention}).at(0).kind,
            IngestOutcome::Kind::kApplied);
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  // Neither holds it: both want it, and asking each other finds nothing.
  EXPECT_EQ(StoreOf(a, store)->WantedChunks(10)->size(), 1u);
  EXPECT_EQ(StoreOf(b, store)->WantedChunks(10)->size(), 1u);
  EXPECT_TRUE(Eventually([&] { return b.replicator->chunk_stats().answered_unknown >= 1; }))
      << "B asked A, which does not hold it";
  // The writer's chunk reaches A (as its PutChunks would); B asks again later and gets it.
  ASSERT_TRUE(StoreOf(a, store)->chunks()->Put(ChunkHash(chunk), chunk).ok());
  ASSERT_TRUE(StoreOf(a, store)->ChunksStored({ChunkHash(chunk)}).ok());
  // The chunk is stored before it is struck from the wanted list, so wait for both.
  EXPECT_TRUE(Eventually(
      [&] {
        auto wanted = StoreOf(b, store)->WantedChunks(10);
        return *StoreOf(b, store)->chunks()->Has(ChunkHash(chunk)) && wanted.ok() && wanted->empty();
      },
      30s))
      << "B holds it: " << *StoreOf(b, store)->chunks()->Has(ChunkHash(chunk));
}

TEST_F(ChunkReplicationTest, AChunkDamagedOnTheServingNodeIsNotSentAndIsWantedThereAgain) {
  MakeMesh(2);
  std::string store = CreateStore("files");
  MeshNode& a = *nodes_[0];
  MeshNode& b = *nodes_[1];
  KeyPair writer = GenerateKeyPair();
  MakeMember(a, writer);
  std::string mesh = FormatStoreId(a.node->own_mesh_id());
  ASSERT_TRUE(WaitConverged(All(), mesh)) << Describe(All(), mesh);
  std::string chunk = PseudoRandom(60'000, 5);
  ASSERT_TRUE(StoreOf(a, store)->chunks()->Put(ChunkHash(chunk), chunk).ok());
  ASSERT_TRUE(StoreOf(a, store)->chunks()->Sync().ok());
  // The bytes on A's disk rot before B asks.
  std::string pack = a.dir.path() + "/stores/" + store + "/chunks/packs/000001.pack";
  {
    std::fstream file(pack, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.good()) << pack;
    file.seekp(40 + 1234);
    file.put('\x42');
  }
  ForeignAuthor author(StoreOf(a, store)->id(), writer);
  ASSERT_EQ(StoreOf(a, store)
                ->Ingest({author.Next(kOpFs, FsWritePayload({chunk})).signed_intention})
                .at(0)
                .kind,
            IngestOutcome::Kind::kApplied);
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  // A finds the damage when B asks (or when it reads), drops the chunk and wants it again;
  // B gets nothing, and neither is cut off.
  EXPECT_TRUE(Eventually([&] { return StoreOf(a, store)->WantedChunks(10)->size() == 1; }));
  EXPECT_FALSE(*StoreOf(a, store)->chunks()->Has(ChunkHash(chunk)));
  EXPECT_FALSE(*StoreOf(b, store)->chunks()->Has(ChunkHash(chunk)));
  EXPECT_EQ(b.replicator->chunk_stats().peers_cut_off, 0u);
  EXPECT_TRUE(LinkedTo(a, b));
}

// A member the test plays by hand: dials n0 and answers chunk requests with `bytes`.
struct LyingPeer {
  KeyPair key = GenerateKeyPair();
  std::unique_ptr<net::Transport> transport;
  std::shared_ptr<net::Link> link;
  std::atomic<int> requests{0};
};

TEST_F(ChunkReplicationTest, APeerSendingAChunkThatDoesNotMatchItsHashIsCutOffAndNothingKept) {
  MakeMesh(1);
  std::string store = CreateStore("files");
  MeshNode& a = *nodes_[0];
  auto evil = std::make_unique<LyingPeer>();
  MakeMember(a, evil->key);
  net::TransportConfig config;
  config.identity = &evil->key;
  evil->transport = network_->CreateTransport("evil", std::move(config));
  net::DialRequest dial;
  dial.address = "n0:7470";
  dial.expected_node_id = a.id();
  auto link = evil->transport->Dial(dial);
  ASSERT_TRUE(link.ok()) << link.status();
  evil->link = *std::move(link);
  // The liar answers with the true bytes of one chunk and other bytes for the second, in one
  // response: nothing of that response may be kept.
  std::string honest = PseudoRandom(40'000, 4);
  std::string chunk = PseudoRandom(50'000, 3);
  std::string hash = ChunkHash(chunk);
  LyingPeer* peer = evil.get();
  evil->link->Start({[peer, honest](std::string payload) {
                       auto message = replication::ParsePeerMessage(payload);
                       if (!message.ok() || !message->has_chunk_request()) return;
                       ++peer->requests;
                       v1::PeerMessage reply;
                       auto* response = reply.mutable_chunk_response();
                       response->set_store_id(message->chunk_request().store_id());
                       response->set_request_id(message->chunk_request().request_id());
                       for (const auto& asked : message->chunk_request().hashes()) {
                         auto* data = response->add_chunks();
                         data->set_hash(asked);
                         data->set_data(asked == ChunkHash(honest)
                                            ? honest
                                            : "not the bytes of " + ToHex(asked));
                       }
                       response->set_last(true);
                       (void)peer->link->Send(reply.SerializeAsString());
                     },
                     [](const absl::Status&) {}});

  // The liar writes a version citing the chunk, then answers A's request with other bytes.
  ForeignAuthor author(StoreOf(a, store)->id(), evil->key);
  v1::PeerMessage push;
  push.mutable_push()->set_store_id(StoreOf(a, store)->id());
  *push.mutable_push()->add_intentions() =
      author.Next(kOpFs, FsWritePayload({honest, chunk})).signed_intention;
  ASSERT_TRUE(evil->link->Send(push.SerializeAsString()).ok());

  EXPECT_TRUE(Eventually([&] { return !evil->link->open(); })) << "A cuts the liar off";
  EXPECT_GE(evil->requests.load(), 1);
  EXPECT_EQ(a.replicator->chunk_stats().peers_cut_off, 1u);
  EXPECT_EQ(a.replicator->chunk_stats().chunks_received, 0u);
  EXPECT_FALSE(*StoreOf(a, store)->chunks()->Has(hash));
  EXPECT_FALSE(*StoreOf(a, store)->chunks()->Has(ChunkHash(honest)));
  EXPECT_EQ(StoreOf(a, store)->chunks()->chunk_count(), 0u);
  // Still wanted, to be fetched from an honest peer.
  std::vector<std::string> both{hash, ChunkHash(honest)};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(*StoreOf(a, store)->WantedChunks(10), both);
  // And the liar is refused for a while.
  net::DialRequest again;
  again.address = "n0:7470";
  again.expected_node_id = a.id();
  auto refused = evil->transport->Dial(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("misbehaviour"));
}

}  // namespace
}  // namespace lattice::kernel::testing
