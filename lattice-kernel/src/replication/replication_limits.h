// Limits on what replication accepts from a peer and on the work it takes on for one, named
// in one place (the transport's own limits are in net/link_limits.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace lattice::kernel::replication::limits {

// The replication protocol version in PeerHello.
inline constexpr uint32_t kProtocolVersion = 2;

// Intentions in one push, fetch response or bootstrap chunk.
inline constexpr size_t kMaxIntentionsPerMessage = 1024;
// Hashes in one fetch request (and unknown hashes in one response).
inline constexpr size_t kMaxHashesPerFetch = 1024;
// We pack messages up to this many bytes (one intention may be larger, up to the frame
// limit of net::kMaxFramePayloadBytes, and then travels alone).
inline constexpr size_t kTargetMessageBytes = 2 * 1024 * 1024;
// Intentions per bootstrap request.
inline constexpr uint32_t kBootstrapChunkIntentions = 512;
// Negentropy sessions a peer may hold open with us at once (one per store it reconciles).
inline constexpr size_t kMaxResponderSessions = 64;
// A responder session the initiator stopped talking to is dropped after this.
inline constexpr auto kResponderSessionIdle = std::chrono::seconds(60);
// A fetch whose answer did not come back is given up (and may be asked again) after this.
inline constexpr auto kFetchTimeout = std::chrono::seconds(30);
// Hashes waiting, over all peers and stores, for the pushes to settle before they are
// fetched (dependencies of pushed intentions, and what peers offer); past it they are
// fetched at once.
inline constexpr size_t kMaxWaitingHashes = 64 * 1024;
// Hashes asked for and not answered yet, over all peers and stores, past which what peers
// offer is no longer taken up.
inline constexpr size_t kMaxAskedHashes = 256 * 1024;
// Missing dependencies asked for in one periodic sweep of a store's floating index.
inline constexpr size_t kMaxMissingPerSweep = 1024;
// Hashes queued for fetching from one peer (what does not fit waits for the next sync).
inline constexpr size_t kMaxQueuedFetchHashes = 256 * 1024;
// Nodes listed as already reached in one gossip push (beyond this, some get it twice).
inline constexpr size_t kMaxReachedPerPush = 64;
inline constexpr size_t kReachedIdBytes = 8;
// Strings a peer sends: names and addresses.
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxAddresses = 16;
inline constexpr size_t kMaxAddressBytes = 256;
// Gossip pushes waiting to be sent; past this, pushes are dropped (anti-entropy recovers).
inline constexpr size_t kMaxGossipQueue = 4096;
// Concurrent outgoing dials.
inline constexpr size_t kMaxConcurrentDials = 8;

// Chunks of fs stores (ChunkRequest / ChunkResponse). Hashes in one request:
inline constexpr size_t kMaxChunkHashesPerRequest = 256;
// Chunks in one response, and the bytes of chunk data a responder packs into one (a chunk is
// at most limits::kFsChunkMaxBytes, so a response stays well under the frame limit).
inline constexpr size_t kMaxChunksPerMessage = 64;
inline constexpr size_t kTargetChunkMessageBytes = 4 * 1024 * 1024;
// Chunk requests this node has outstanding with one peer, and in all; what does not fit is
// asked when answers come back or at the next sweep.
inline constexpr size_t kMaxChunkRequestsInFlightPerPeer = 4;
inline constexpr size_t kMaxChunkRequestsInFlight = 16;
// Chunk requests of one peer this node answers at once (more are refused as unknown).
inline constexpr size_t kMaxChunkRequestsServedPerPeer = 8;
// A chunk request without its last response is given up after this (then asked again).
inline constexpr auto kChunkFetchTimeout = std::chrono::seconds(30);
// Wanted chunks of one store read per sweep.
inline constexpr size_t kMaxWantedChunksPerSweep = 4096;

}  // namespace lattice::kernel::replication::limits
