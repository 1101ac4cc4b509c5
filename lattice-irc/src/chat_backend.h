// What the IRC server needs from the kernel, as asynchronous calls. KernelBackend
// (kernel_backend.h) implements it over the Store Protocol; tests use a fake. Every
// completion runs on the event loop thread, in the order the backend produced it, on the
// same queue as watch events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lattice/v1/store_protocol.pb.h"

namespace lattice::irc {

struct PostOutcome {
  absl::Status status;  // OK: applied; otherwise why it was not (and will not be) posted
  std::string hash;     // hex hash of the message, when OK
  uint64_t wall_ms = 0;  // the wall time of the message's HLC, when known (server-time)
};

// The IRC msgid of a stored message: the id this or another gateway gave a post (minted when
// the post was accepted, so it could be shown at once), else the message's hash.
inline const std::string& MsgidOf(const v1::ChatMessage& message) {
  return message.msgid().empty() ? message.hash() : message.msgid();
}

// The msgid of a reply's or reaction's parent, as MsgidOf shows the parent.
inline const std::string& RefMsgidOf(const v1::ChatMessage& message) {
  return message.ref_msgid().empty() ? message.ref() : message.ref_msgid();
}

// The time shown with a stored message (server-time): when its gateway showed it, if said,
// else its HLC's wall time.
inline uint64_t ShownTimeOf(const v1::ChatMessage& message) {
  return message.time_ms() != 0 ? message.time_ms() : message.hlc().wall_ms();
}

struct ChannelSnapshot {
  absl::Status status;  // not OK: the kernel could not be read in time
  v1::Topic topic;
  // The channel's settings that are on (Chat.GetChannel); empty from a kernel without it.
  std::vector<v1::ChannelMode> modes;
  // Messages the channel holds (Chat.GetChannel): 0 for a channel nobody ever used.
  uint64_t messages = 0;
  std::vector<v1::ChatMessage> history;  // oldest first
  // A witness number at or above every message in `history`: watch events with a higher
  // cursor are certainly not in it.
  uint64_t horizon = 0;
};

struct ChannelList {
  absl::Status status;
  std::vector<v1::ChannelInfo> channels;
};

// One page of a channel's history (Chat.History).
struct HistoryPage {
  absl::Status status;
  std::vector<v1::ChatMessage> messages;  // oldest first
  std::string next_before;                // the token of the next older page; "" at the start
};

struct TopicAnswer {
  absl::Status status;
  v1::Topic topic;
};

class ChatBackend {
 public:
  virtual ~ChatBackend() = default;

  // Writes with the same `order` key (the client that makes them) are applied in the order
  // they are submitted; writes of different keys may be applied concurrently. They are
  // retried while the kernel is unreachable; `done` reports the final outcome.
  virtual void Post(const v1::PostRequest& request, uint64_t order,
                    std::function<void(PostOutcome)> done) = 0;
  virtual void SetTopic(const v1::SetTopicRequest& request, uint64_t order,
                        std::function<void(PostOutcome)> done) = 0;
  virtual void SetModes(const v1::SetModesRequest& request, uint64_t order,
                        std::function<void(PostOutcome)> done) = 0;
  // `ref` (hex) names the message replied or reacted to.
  virtual void Reply(const v1::ReplyRequest& request, uint64_t order,
                     std::function<void(PostOutcome)> done) = 0;
  virtual void React(const v1::ReactRequest& request, uint64_t order,
                     std::function<void(PostOutcome)> done) = 0;

  // Reads give up after a deadline and say so.
  virtual void FetchChannel(const std::string& channel, uint32_t history_limit,
                            std::function<void(ChannelSnapshot)> done) = 0;
  virtual void FetchTopic(const std::string& channel, std::function<void(TopicAnswer)> done) = 0;
  virtual void ListChannels(std::function<void(ChannelList)> done) = 0;
  // The newest `limit` messages of `channel` older than the page token `before` ("" for the
  // newest), for CHATHISTORY.
  virtual void FetchHistoryPage(const std::string& channel, uint32_t limit,
                                const std::string& before, std::function<void(HistoryPage)> done) {
    (void)channel;
    (void)limit;
    (void)before;
    done(HistoryPage{absl::UnimplementedError("this backend keeps no history"), {}, ""});
  }
};

}  // namespace lattice::irc
