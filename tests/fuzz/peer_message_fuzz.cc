// libFuzzer target: what a peer can send over an established link (one PeerMessage per
// frame) and what an operator can paste as an invite token. Parsing and checking must
// never crash, and whatever passes the checks must respect every limit it claims to.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dag/intention.h"
#include "lattice/common/crypto.h"
#include "replication/invites.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"

using namespace lattice::kernel;

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool initialised = (lattice::InitCrypto(), true);
  (void)initialised;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto message = replication::ParsePeerMessage(bytes);
  if (message.ok()) {
    switch (message->kind_case()) {
      case lattice::v1::PeerMessage::kPush:
        Require(message->push().store_id().size() == 16);
        Require(static_cast<size_t>(message->push().intentions_size()) <=
                replication::limits::kMaxIntentionsPerMessage);
        for (const auto& intention : message->push().intentions()) (void)DecodeAndVerify(intention);
        break;
      case lattice::v1::PeerMessage::kFetch:
        Require(static_cast<size_t>(message->fetch().hashes_size()) <=
                replication::limits::kMaxHashesPerFetch);
        for (const auto& hash : message->fetch().hashes()) Require(hash.size() == 32);
        break;
      case lattice::v1::PeerMessage::kWelcome:
        Require(message->welcome().creator().size() == 32);
        break;
      case lattice::v1::PeerMessage::kChunkRequest:
        Require(static_cast<size_t>(message->chunk_request().hashes_size()) <=
                replication::limits::kMaxChunkHashesPerRequest);
        for (const auto& hash : message->chunk_request().hashes()) Require(hash.size() == 32);
        break;
      case lattice::v1::PeerMessage::kChunkResponse:
        Require(static_cast<size_t>(message->chunk_response().chunks_size()) <=
                replication::limits::kMaxChunksPerMessage);
        for (const auto& chunk : message->chunk_response().chunks()) {
          Require(chunk.hash().size() == 32 && chunk.data().size() <= 256 * 1024);
        }
        break;
      default:
        break;
    }
  }
  auto token = replication::DecodeInviteToken(bytes);
  if (token.ok()) {
    Require(token->mesh_id().size() == 16 && token->inviter_id().size() == 32);
    Require(!token->addresses().empty());
    // What we encode we decode the same.
    auto again = replication::DecodeInviteToken(replication::EncodeInviteToken(*token));
    Require(again.ok() && again->SerializeAsString() == token->SerializeAsString());
  }
  return 0;
}
