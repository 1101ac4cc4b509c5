// Limits on presence (Presence.Announce and the PresenceGossip peers send), named in one
// place. Presence lives in memory only, so these bound the memory one store's presence can
// take: live entries and remembered sequences, each at most a key, a value and a signature.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lattice/common/limits.h"

namespace lattice::kernel::presence::limits {

// A key, as Presence.Announce takes it and as a peer may send it.
inline constexpr size_t kMinKeyBytes = 1;
inline constexpr size_t kMaxKeyBytes = 256;
inline constexpr size_t kMaxValueBytes = 1024;
// Presence.Watch's prefix (it matches keys, so a longer one matches nothing).
inline constexpr size_t kMaxPrefixBytes = kMaxKeyBytes;

// Time to live of an announcement made here (0 withdraws). A peer's longer ttl is cut to
// kMaxTtlMs; its shorter one is kept (it counts from arrival, so a short one only expires
// sooner).
inline constexpr uint32_t kMinTtlMs = 1'000;
inline constexpr uint32_t kMaxTtlMs = 300'000;

// Live entries of one origin in one store, and of all origins in one store. Past them a
// local announcement is refused (RESOURCE_EXHAUSTED) and a peer's new entry is dropped.
// A store's entries fit one gRPC message: Presence.Watch's first response holds them all.
inline constexpr size_t kMaxEntriesPerOrigin = 4'096;
inline constexpr size_t kMaxEntriesPerStore = 10'000;
// One PresenceEvent in a watch response at most: the node's hex id, key, value, the expiry
// and the tags and lengths around them.
inline constexpr size_t kMaxWatchEventBytes = 64 + kMaxKeyBytes + kMaxValueBytes + 64;
static_assert(kMaxEntriesPerStore * kMaxWatchEventBytes + 1024 <
                  static_cast<size_t>(::lattice::limits::kMaxRpcMessageBytes),
              "a store's whole presence must fit Presence.Watch's first response");

// How long the sequence of a withdrawn or expired entry is remembered, so that an older
// copy still travelling between peers cannot bring the entry back; and how many such
// sequences one store remembers (past that the soonest to be forgotten goes first).
inline constexpr uint64_t kRememberSequenceMs = 10 * 60 * 1000;
inline constexpr size_t kMaxRememberedPerStore = 65'536;

// Announcements in one PresenceGossip message.
inline constexpr size_t kMaxAnnouncementsPerMessage = 256;
// Stores asked for in one PresenceGossip (`want`).
inline constexpr size_t kMaxWantedStoresPerMessage = 64;

// Events a Presence.Watch holds for a client that does not read, in bytes; past this the
// stream ends with RESOURCE_EXHAUSTED (a new watch starts again from a snapshot).
inline constexpr size_t kMaxBufferedWatchBytes = 4 * 1024 * 1024;

}  // namespace lattice::kernel::presence::limits
