// irc_remote_author: plays a user of another node for the IRC integration tests, until two
// kernels can replicate. It holds an Ed25519 key of its own (a "node"), makes it an active
// member of the kernel's mesh (/nodes/<hex>/status = active in the root store), then signs
// chat posts with it and hands them to the kernel's ingest path (Admin.Ingest), exactly as
// replication will deliver them. The key and the author's chain position are kept in
// --state so successive runs continue the same chain.
//
//   irc_remote_author --socket S --store chat1 --state F --sender alice --channel general
//                     --text "hello" [--text "more" ...]
// Prints the author's node id (hex) on the first line, then one hash per message.
// Exit status: 0 when every message was applied, 1 otherwise.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "lattice/client.h"
#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "lattice/v1/intention.pb.h"

namespace {

constexpr char kSignatureContext[] = "lattice/intention/v1";

struct AuthorState {
  lattice::KeyPair key;
  uint64_t seq = 0;  // of the last intention signed
  std::string prev;  // its hash, raw
};

bool LoadState(const std::string& path, AuthorState* state) {
  std::ifstream in(path);
  if (!in) return false;
  std::string secret_hex, prev_hex;
  in >> secret_hex >> state->seq >> prev_hex;
  auto secret = lattice::FromHex(secret_hex);
  if (!secret || !lattice::KeyPairFromSecret(*secret, &state->key)) return false;
  if (prev_hex != "-") {
    auto prev = lattice::FromHex(prev_hex);
    if (!prev) return false;
    state->prev = *prev;
  }
  return true;
}

void SaveState(const std::string& path, const AuthorState& state) {
  std::ofstream out(path, std::ios::trunc);
  out << lattice::ToHex(state.key.secret_key) << "\n"
      << state.seq << "\n"
      << (state.prev.empty() ? std::string("-") : lattice::ToHex(state.prev)) << "\n";
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket, store, state_path, sender, channel, kind = "post";
  std::vector<std::string> texts;
  CLI::App app{"sign chat posts as another node and ingest them"};
  app.add_option("--socket", socket, "the kernel's socket")->required();
  app.add_option("--store", store, "chat store id or name")->required();
  app.add_option("--state", state_path, "file keeping this author's key and chain")->required();
  app.add_option("--sender", sender, "the sender name (an IRC nick)");
  app.add_option("--channel", channel, "chat channel (without '#')")->required();
  app.add_option("--text", texts, "a message (repeatable)")->required();
  app.add_option("--kind", kind, "post or topic")->check(CLI::IsMember({"post", "topic"}));
  CLI11_PARSE(app, argc, argv);

  lattice::InitCrypto();
  AuthorState state;
  if (!LoadState(state_path, &state)) {
    state = AuthorState{};
    state.key = lattice::GenerateKeyPair();
  }
  std::string author_hex = lattice::ToHex(state.key.public_key);

  lattice::client::ClientOptions options;
  options.socket_path = socket;
  auto client = lattice::client::Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", std::string(client.status().message()).c_str());
    return 1;
  }
  const std::string root = (*client)->session().node().root_store_id();
  auto member = (*client)->Put(root, "/nodes/" + author_hex + "/status", "active");
  if (!member.ok()) {
    std::fprintf(stderr, "membership: %s\n", std::string(member.status().message()).c_str());
    return 1;
  }
  auto info = (*client)->OpenStore(store);
  if (!info.ok()) {
    std::fprintf(stderr, "store: %s\n", std::string(info.status().message()).c_str());
    return 1;
  }
  auto store_raw = lattice::ParseStoreId(info->id());
  if (!store_raw) {
    std::fprintf(stderr, "store id %s does not parse\n", info->id().c_str());
    return 1;
  }

  std::vector<lattice::v1::SignedIntention> batch;
  std::vector<std::string> hashes;
  uint64_t wall = NowMs();
  for (const auto& text : texts) {
    lattice::v1::ChatPayload payload;
    if (kind == "topic") {
      payload.mutable_topic()->set_channel(channel);
      payload.mutable_topic()->set_text(text);
      payload.mutable_topic()->set_sender(sender);
    } else {
      payload.mutable_post()->set_channel(channel);
      payload.mutable_post()->set_text(text);
      payload.mutable_post()->set_sender(sender);
    }
    lattice::v1::Intention intention;
    intention.set_store_id(*store_raw);
    intention.set_author(state.key.public_key);
    intention.set_seq(state.seq + 1);
    intention.set_prev(state.prev);
    intention.mutable_hlc()->set_wall_ms(wall);
    intention.mutable_hlc()->set_counter(static_cast<uint32_t>(hashes.size()));
    intention.set_op_type("chat.v1");
    intention.set_payload(payload.SerializeAsString());
    std::string body = intention.SerializeAsString();
    lattice::v1::SignedIntention signed_intention;
    signed_intention.set_body(body);
    signed_intention.set_signature(lattice::Sign(state.key, kSignatureContext, body));
    batch.push_back(signed_intention);
    state.seq += 1;
    state.prev = lattice::Blake2b256(body);
    hashes.push_back(lattice::ToHex(state.prev));
  }
  auto ingested = (*client)->Ingest(info->id(), batch);
  if (!ingested.ok()) {
    std::fprintf(stderr, "ingest: %s\n", std::string(ingested.status().message()).c_str());
    return 1;
  }
  bool all_applied = true;
  for (const auto& outcome : ingested->outcomes()) {
    if (outcome.result() != "applied") {
      all_applied = false;
      std::fprintf(stderr, "%s: %s %s\n", outcome.hash().c_str(), outcome.result().c_str(),
                   outcome.reason().c_str());
    }
  }
  if (all_applied) SaveState(state_path, state);
  std::printf("%s\n", author_hex.c_str());
  for (const auto& hash : hashes) std::printf("%s\n", hash.c_str());
  return all_applied ? 0 : 1;
}
