#include "replication/peer_message.h"

#include <fmt/format.h>

#include "lattice/common/fs_limits.h"
#include "lattice/common/status.h"
#include "presence/presence_limits.h"
#include "replication/replication_limits.h"

namespace lattice::kernel::replication {
namespace {

constexpr size_t kStoreIdBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kNodeIdBytes = 32;
constexpr size_t kSignatureBytes = 64;

absl::Status CheckStoreId(const std::string& id) {
  if (id.size() != kStoreIdBytes) {
    return absl::InvalidArgumentError(fmt::format("store id of {} bytes, not {}", id.size(), kStoreIdBytes));
  }
  return absl::OkStatus();
}

template <typename Hashes>
absl::Status CheckHashes(const Hashes& hashes, std::string_view what) {
  if (static_cast<size_t>(hashes.size()) > limits::kMaxHashesPerFetch) {
    return LimitExceeded(what, hashes.size(), limits::kMaxHashesPerFetch, "hashes");
  }
  for (const auto& hash : hashes) {
    if (hash.size() != kHashBytes) {
      return absl::InvalidArgumentError(fmt::format("{}: a hash of {} bytes", what, hash.size()));
    }
  }
  return absl::OkStatus();
}

template <typename Intentions>
absl::Status CheckIntentions(const Intentions& intentions, std::string_view what) {
  if (static_cast<size_t>(intentions.size()) > limits::kMaxIntentionsPerMessage) {
    return LimitExceeded(what, intentions.size(), limits::kMaxIntentionsPerMessage, "intentions");
  }
  return absl::OkStatus();
}

absl::Status CheckChunkHashes(const google::protobuf::RepeatedPtrField<std::string>& hashes,
                              std::string_view what) {
  if (static_cast<size_t>(hashes.size()) > limits::kMaxChunkHashesPerRequest) {
    return LimitExceeded(what, hashes.size(), limits::kMaxChunkHashesPerRequest, "hashes");
  }
  for (const auto& hash : hashes) {
    if (hash.size() != kHashBytes) {
      return absl::InvalidArgumentError(fmt::format("{}: a chunk hash of {} bytes", what, hash.size()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckChunkResponse(const v1::ChunkResponse& response) {
  LATTICE_RETURN_IF_ERROR(CheckStoreId(response.store_id()));
  LATTICE_RETURN_IF_ERROR(CheckChunkHashes(response.unknown(), "chunk response"));
  if (static_cast<size_t>(response.chunks_size()) > limits::kMaxChunksPerMessage) {
    return LimitExceeded("chunk response", response.chunks_size(), limits::kMaxChunksPerMessage,
                         "chunks");
  }
  for (const auto& chunk : response.chunks()) {
    if (chunk.hash().size() != kHashBytes) {
      return absl::InvalidArgumentError(
          fmt::format("chunk response: a chunk hash of {} bytes", chunk.hash().size()));
    }
    if (chunk.data().size() > ::lattice::limits::kFsChunkMaxBytes) {
      return LimitExceeded("chunk response: a chunk", chunk.data().size(),
                           ::lattice::limits::kFsChunkMaxBytes);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHello(const v1::PeerHello& hello) {
  if (hello.name().size() > limits::kMaxNameBytes) {
    return LimitExceeded("hello name", hello.name().size(), limits::kMaxNameBytes);
  }
  if (static_cast<size_t>(hello.addresses_size()) > limits::kMaxAddresses) {
    return LimitExceeded("hello", hello.addresses_size(), limits::kMaxAddresses, "addresses");
  }
  for (const auto& address : hello.addresses()) {
    if (address.size() > limits::kMaxAddressBytes) {
      return LimitExceeded("hello address", address.size(), limits::kMaxAddressBytes);
    }
  }
  return absl::OkStatus();
}

// Sizes only: membership and the signature are PresenceGossip's to check, a ttl beyond the
// limit is cut there (a newer node may allow more), and a short one is kept.
absl::Status CheckPresence(const v1::PresenceGossip& gossip) {
  namespace plimits = presence::limits;
  if (static_cast<size_t>(gossip.entries_size()) > plimits::kMaxAnnouncementsPerMessage) {
    return LimitExceeded("presence", gossip.entries_size(), plimits::kMaxAnnouncementsPerMessage,
                         "announcements");
  }
  if (static_cast<size_t>(gossip.want_size()) > plimits::kMaxWantedStoresPerMessage) {
    return LimitExceeded("presence", gossip.want_size(), plimits::kMaxWantedStoresPerMessage,
                         "wanted stores");
  }
  for (const auto& store_id : gossip.want()) LATTICE_RETURN_IF_ERROR(CheckStoreId(store_id));
  for (const auto& entry : gossip.entries()) {
    LATTICE_RETURN_IF_ERROR(CheckStoreId(entry.store_id()));
    if (entry.origin().size() != kNodeIdBytes) {
      return absl::InvalidArgumentError("presence: an origin that is not a node id");
    }
    if (entry.signature().size() != kSignatureBytes) {
      return absl::InvalidArgumentError(
          fmt::format("presence: a signature of {} bytes", entry.signature().size()));
    }
    if (entry.key().size() < plimits::kMinKeyBytes || entry.key().size() > plimits::kMaxKeyBytes) {
      return absl::InvalidArgumentError(fmt::format(
          "presence: a key of {} bytes, outside {}..{}", entry.key().size(),
          plimits::kMinKeyBytes, plimits::kMaxKeyBytes));
    }
    if (entry.value().size() > plimits::kMaxValueBytes) {
      return LimitExceeded("presence value", entry.value().size(), plimits::kMaxValueBytes);
    }
  }
  return absl::OkStatus();
}

absl::Status Check(const v1::PeerMessage& message) {
  switch (message.kind_case()) {
    case v1::PeerMessage::kHello:
      return CheckHello(message.hello());
    case v1::PeerMessage::kPush:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.push().store_id()));
      if (static_cast<size_t>(message.push().reached_size()) > limits::kMaxReachedPerPush) {
        return LimitExceeded("push", message.push().reached_size(), limits::kMaxReachedPerPush,
                             "reached nodes");
      }
      for (const auto& id : message.push().reached()) {
        if (id.size() != limits::kReachedIdBytes) {
          return absl::InvalidArgumentError("push: a reached node id of the wrong size");
        }
      }
      return CheckIntentions(message.push().intentions(), "push");
    case v1::PeerMessage::kOffer:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.offer().store_id()));
      return CheckHashes(message.offer().hashes(), "offer");
    case v1::PeerMessage::kFetch:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.fetch().store_id()));
      return CheckHashes(message.fetch().hashes(), "fetch request");
    case v1::PeerMessage::kFetched:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.fetched().store_id()));
      LATTICE_RETURN_IF_ERROR(CheckHashes(message.fetched().unknown(), "fetch response"));
      return CheckIntentions(message.fetched().intentions(), "fetch response");
    case v1::PeerMessage::kSync:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.sync().store_id()));
      if (message.sync().error().size() > 1024) {
        return LimitExceeded("sync error text", message.sync().error().size(), 1024);
      }
      return absl::OkStatus();
    case v1::PeerMessage::kBootstrap:
      return CheckStoreId(message.bootstrap().store_id());
    case v1::PeerMessage::kChunk:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.chunk().store_id()));
      return CheckIntentions(message.chunk().intentions(), "bootstrap chunk");
    case v1::PeerMessage::kWelcome:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.welcome().mesh_id()));
      if (message.welcome().creator().size() != kNodeIdBytes) {
        return absl::InvalidArgumentError("welcome: the mesh creator is not a node id");
      }
      if (message.welcome().inviter_name().size() > limits::kMaxNameBytes) {
        return LimitExceeded("welcome name", message.welcome().inviter_name().size(),
                             limits::kMaxNameBytes);
      }
      return absl::OkStatus();
    case v1::PeerMessage::kChunkRequest:
      LATTICE_RETURN_IF_ERROR(CheckStoreId(message.chunk_request().store_id()));
      return CheckChunkHashes(message.chunk_request().hashes(), "chunk request");
    case v1::PeerMessage::kChunkResponse:
      return CheckChunkResponse(message.chunk_response());
    case v1::PeerMessage::kPresence:
      return CheckPresence(message.presence());
    case v1::PeerMessage::KIND_NOT_SET:
      return absl::InvalidArgumentError("a peer message of no known kind");
  }
  return absl::InvalidArgumentError("a peer message of no known kind");
}

}  // namespace

absl::StatusOr<v1::PeerMessage> ParsePeerMessage(std::string_view payload) {
  v1::PeerMessage message;
  if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError(
        fmt::format("a peer message of {} bytes does not parse", payload.size()));
  }
  LATTICE_RETURN_IF_ERROR(Check(message));
  return message;
}

size_t PackedSize(const v1::SignedIntention& intention) {
  // The field tag and length prefix of a repeated message: at most 1 + 5 bytes.
  return intention.ByteSizeLong() + 6;
}

size_t PackIntentions(const std::vector<v1::SignedIntention>& intentions, size_t from,
                      google::protobuf::RepeatedPtrField<v1::SignedIntention>* out) {
  size_t i = from;
  size_t bytes = 0;
  while (i < intentions.size() &&
         static_cast<size_t>(out->size()) < limits::kMaxIntentionsPerMessage &&
         (out->empty() || bytes + PackedSize(intentions[i]) <= limits::kTargetMessageBytes)) {
    bytes += PackedSize(intentions[i]);
    *out->Add() = intentions[i];
    ++i;
  }
  return i;
}

}  // namespace lattice::kernel::replication
