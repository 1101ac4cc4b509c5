// Every size and count that comes from outside the kernel, named in one place.
// Errors that enforce them name the limit (see LimitExceeded in status.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lattice::limits {

inline constexpr size_t kMaxKeyBytes = 4 * 1024;
inline constexpr size_t kMaxValueBytes = 1024 * 1024;
inline constexpr size_t kMaxBatchOps = 1024;
inline constexpr size_t kMaxBatchBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxPayloadBytes = 4 * 1024 * 1024 + 64 * 1024;
inline constexpr size_t kMaxIntentionBytes = kMaxPayloadBytes + 8 * 1024;
inline constexpr size_t kMaxDeps = 64;
inline constexpr size_t kMaxOpTypeBytes = 32;
inline constexpr size_t kMaxFloatingPerAuthor = 10'000;
inline constexpr size_t kMaxIngestPerCall = 1024;

inline constexpr size_t kMaxChannelBytes = 200;
inline constexpr size_t kMaxChatTextBytes = 16 * 1024;
inline constexpr size_t kMaxSenderBytes = 64;
inline constexpr size_t kMaxEmojiBytes = 64;
inline constexpr uint32_t kMaxHistoryLimit = 1000;

inline constexpr size_t kMaxStoreNameBytes = 128;
inline constexpr size_t kMaxNodeNameBytes = 128;
inline constexpr size_t kMaxTokenNameBytes = 128;
inline constexpr size_t kMaxTokenScopes = 64;
inline constexpr size_t kMaxScanPageEntries = 4096;

// What an error message quotes of a name, key or other input it echoes; the rest is cut.
inline constexpr size_t kMaxQuotedBytes = 64;
// A token or invite lives at most this long (a longer TTL would overflow the clock's ms).
inline constexpr uint64_t kMaxTtlSeconds = 100ull * 366 * 24 * 3600;
// A status message sent to a client never exceeds this, whatever it quotes: gRPC carries it
// in metadata, where a client refuses more than 8 KiB in all.
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// gRPC's own ceiling on one message, above every limit of a single request.
inline constexpr int kMaxRpcMessageBytes = 16 * 1024 * 1024;

// A page of a stream (Scan, Kv.Watch, Chat.Watch) or a Chat.History answer stops growing
// once it holds this many bytes. The item that crosses the line still goes (one Scan entry,
// the events of one intention), so every page holds at least one and a page never exceeds
// this plus the largest item: one intention's payload with the per-event fields around it.
inline constexpr size_t kMaxStreamPageBytes = kMaxValueBytes;
inline constexpr size_t kMaxStreamEventOverheadBytes = 512;  // cursor, author, hash, HLC
static_assert(kMaxStreamPageBytes + kMaxPayloadBytes + kMaxBatchOps * kMaxStreamEventOverheadBytes <
                  static_cast<size_t>(kMaxRpcMessageBytes),
              "a full page plus its last item must fit in one gRPC message");

// Open streams (Scan, Kv.Watch, Chat.Watch) per credential (a service token, or the admin
// cookie) and per client peer; one more is refused with RESOURCE_EXHAUSTED. Every client of
// the Unix socket is the same peer to gRPC, so there the peer cap bounds the kernel's total.
// An open stream has one page in flight at most (held twice while its client does not read:
// the page and gRPC's serialized copy).
inline constexpr size_t kMaxStreamsPerToken = 256;
inline constexpr size_t kMaxStreamsPerPeer = 1024;

// Intentions stamped further than this into the future wait until the clock catches up.
inline constexpr uint64_t kMaxClockDriftMs = 60 * 60 * 1000;

// Files read at start-up or on demand: a kernel configuration file, and a secret (the identity
// key, an admin cookie, a token file).
inline constexpr size_t kMaxConfigFileBytes = 256 * 1024;
inline constexpr size_t kMaxSecretFileBytes = 4096;

}  // namespace lattice::limits
