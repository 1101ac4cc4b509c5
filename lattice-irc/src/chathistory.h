// The CHATHISTORY command of IRCv3's draft/chathistory, without I/O: parsing a request, and
// choosing its answer from a channel's messages read newest first. The chat store's history
// is paged from the newest message back (Chat.History with a `before` token), so every
// selector is answered by reading back from the newest message until what was read decides
// the answer (ScanIsEnough), within kMaxHistoryScan messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::irc {

// The most messages one CHATHISTORY answers (ISUPPORT CHATHISTORY=).
inline constexpr uint32_t kMaxChatHistoryLimit = 100;
// How far back a request may reach for a msgid or timestamp: beyond it a msgid is not found
// and the answer is what lies within. The store has no index from a hash to its place in a
// channel, so a msgid is looked up by reading back from the newest message.
inline constexpr size_t kMaxHistoryScan = 5'000;
// Messages read per page while looking back.
inline constexpr uint32_t kHistoryScanPage = 500;

struct HistoryRef {
  enum class Kind { kNone, kMsgid, kTimestamp };  // kNone: "*"
  Kind kind = Kind::kNone;
  std::string msgid;
  uint64_t time_ms = 0;
};

struct HistoryQuery {
  enum class Sub { kLatest, kBefore, kAfter, kAround, kBetween, kTargets };
  Sub sub = Sub::kLatest;
  std::string subcommand;  // as sent, upper case, for replies
  std::string target;      // as sent
  HistoryRef a;
  HistoryRef b;  // BETWEEN and TARGETS only
  uint32_t limit = 0;
};

// A FAIL CHATHISTORY reply: its code, context parameters and description.
struct HistoryError {
  std::string code;  // INVALID_PARAMS, INVALID_TARGET, MESSAGE_ERROR
  std::vector<std::string> context;
  std::string description;
};

// The parameters of CHATHISTORY (after the command). A limit above `max_limit` is lowered
// to it.
std::variant<HistoryQuery, HistoryError> ParseHistoryQuery(const std::vector<std::string>& params,
                                                           uint32_t max_limit);

// "2024-05-01T12:34:56.789Z" (milliseconds optional) as Unix milliseconds.
bool ParseServerTime(std::string_view text, uint64_t* unix_ms);

// Whether a stored message is shown in history (PRIVMSG/NOTICE lines, not topic or mode
// changes, which draft/event-playback would carry).
bool IsPlayable(const v1::ChatMessage& message);

// Whether `newest_first` (playable messages, newest first) holds everything the answer to
// `query` needs, when older messages may still exist.
bool ScanIsEnough(const HistoryQuery& query, const std::vector<v1::ChatMessage>& newest_first);

struct HistorySelection {
  std::vector<v1::ChatMessage> messages;  // oldest first
  std::string missing_msgid;              // a msgid that is not among what was read
};

// The answer to `query` from `newest_first`.
HistorySelection SelectHistory(const HistoryQuery& query,
                               const std::vector<v1::ChatMessage>& newest_first);

// TARGETS, per channel: what one page (oldest first) says about the channel's newest
// playable message between `lo_ms` and `hi_ms` (inclusive), read from the newest back.
struct TargetScan {
  bool decided = false;  // older pages cannot change the answer
  uint64_t latest_ms = 0;  // the newest such message's time; 0: none
};
TargetScan ScanForTarget(const std::vector<v1::ChatMessage>& page, uint64_t lo_ms,
                         uint64_t hi_ms);

}  // namespace lattice::irc
