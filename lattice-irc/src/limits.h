// Every size, count and rate an IRC client can push against, named in one place. The gateway
// enforces each of them; the errors that do so name the limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lattice::irc::limits {

// ---- Lines (RFC 1459 §2.3, IRCv3 message-tags) ----
// The command part of a line: prefix, command and parameters, including the final CR LF.
inline constexpr size_t kMaxLineBytes = 512;
// The tags part of a line: from the leading '@' up to and including its separating space.
inline constexpr size_t kMaxTagsBytes = 8191;
// The tags a client may send (modern.ircdocs: 4094 bytes of tag data, plus '@' and space);
// more is answered with 417 ERR_INPUTTOOLONG.
inline constexpr size_t kMaxClientTagsBytes = 4094 + 2;
// A line as it arrives: both parts together. Longer input is discarded up to the next LF.
inline constexpr size_t kMaxInputLineBytes = kMaxTagsBytes + kMaxLineBytes;
// RFC 1459: at most 15 parameters.
inline constexpr size_t kMaxParams = 15;

// ---- Names ----
inline constexpr size_t kMaxNickBytes = 30;
inline constexpr size_t kMaxUserBytes = 16;
inline constexpr size_t kMaxRealnameBytes = 128;
// Includes the leading '#'. The chat store allows longer channel names; IRC clients do not.
inline constexpr size_t kMaxChannelNameBytes = 64;
inline constexpr size_t kMaxTopicBytes = 390;
inline constexpr size_t kMaxAwayBytes = 200;
inline constexpr size_t kMaxQuitBytes = 200;
inline constexpr size_t kMaxChannelsPerClient = 50;
// Comma-separated targets of one PRIVMSG, NOTICE, JOIN or PART.
inline constexpr size_t kMaxTargets = 4;

// ---- Channel modes (channel_modes.h) ----
// Changes that take a parameter in one MODE line (ISUPPORT MODES=); the rest are ignored.
inline constexpr size_t kMaxModeParams = 4;
// Ban masks of one channel on this gateway (MAXLIST=b:).
inline constexpr size_t kMaxBans = 100;
// Nicks one client may MONITOR (MONITOR= in ISUPPORT).
inline constexpr size_t kMaxMonitorTargets = 100;
// A channel key (+k; KEYLEN=) and a ban mask.
inline constexpr size_t kMaxKeyBytes = 23;
inline constexpr size_t kMaxBanMaskBytes = 128;
// The largest member limit +l takes.
inline constexpr size_t kMaxChannelLimit = 100'000;

// ---- Buffers ----
// Input a client sent and the gateway has not handled yet: what it read and holds, plus
// what still waits unread in the socket. Beyond it the client is disconnected with
// "Excess Flood". A bot pasting 1,000 lines of up to ~130 bytes stays below it.
inline constexpr size_t kMaxRecvQueueBytes = 128 * 1024;
// Reading from a client pauses while this much of its input waits (flood control or a
// command waiting for the kernel): TCP then slows the client down instead of the gateway
// buffering it.
inline constexpr size_t kReadPauseBytes = 8 * 1024;
// The kernel's receive buffer of a client socket (SO_RCVBUF; Linux doubles it): large enough
// that unread input beyond kMaxRecvQueueBytes can be seen (FIONREAD) and the client told.
inline constexpr int kSocketReceiveBufferBytes = 256 * 1024;
// Lines the IRC server holds for a client while an earlier command waits for the kernel.
inline constexpr size_t kMaxHeldInputBytes = 64 * 1024;
// Bytes queued for a client that does not read. Beyond it the client is disconnected.
inline constexpr size_t kMaxSendQueueBytes = 1024 * 1024;
// The kernel's send buffer of a client socket (SO_SNDBUF; Linux doubles it). Fixed, so what a
// client that does not read can hold back is this plus kMaxSendQueueBytes, not the 4 MiB
// that TCP autotuning would allow.
inline constexpr int kSocketSendBufferBytes = 32 * 1024;
// Bytes read from one socket per readiness event, so one client cannot monopolise the loop.
inline constexpr size_t kReadChunkBytes = 16 * 1024;
inline constexpr size_t kMaxClients = 4096;

// ---- Flood control (a penalty: each line costs 1/kFloodLinesPerSecond seconds, and a
// client may run kFloodBurstLines lines ahead of that; beyond, its lines wait) ----
inline constexpr double kFloodBurstLines = 100;
inline constexpr double kFloodLinesPerSecond = 100;

// ---- Timers ----
inline constexpr int64_t kRegistrationTimeoutMs = 60'000;
// A client silent this long is sent a PING ...
inline constexpr int64_t kPingIntervalMs = 90'000;
// ... and is disconnected when it has not answered this long after.
inline constexpr int64_t kPingTimeoutMs = 60'000;
// A remote user that has not spoken for this long is shown as leaving the channel.
inline constexpr int64_t kRemoteIdlePartMs = 60 * 60 * 1000;

// ---- Kernel side ----
// Messages waiting to be posted while the kernel is away, per client and in all.
inline constexpr size_t kMaxPendingPostsPerClient = 500;
inline constexpr size_t kMaxPendingPosts = 20'000;
// Watch events waiting for the event loop; the watch thread waits beyond it.
inline constexpr size_t kMaxQueuedWatchEvents = 10'000;
// Live messages held back for a client while its JOIN's history is being fetched.
inline constexpr size_t kMaxHeldJoinMessages = 2'000;
// How long a JOIN waits for the channel's topic and history before going ahead without.
inline constexpr int64_t kJoinFetchDeadlineMs = 5'000;
inline constexpr uint32_t kMaxHistoryPlayback = 1'000;
// Messages a gateway posted whose watch event it still expects; older ones are forgotten.
inline constexpr size_t kMaxRememberedOwnPosts = 100'000;

}  // namespace lattice::irc::limits
