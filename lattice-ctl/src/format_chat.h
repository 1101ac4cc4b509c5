// How chat results look: message lines, history pages, topics and channel lists.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// One message on one line, e.g.
//   2024-01-02T03:04:05Z general [1a2b3c4d] alice: hello
//   2024-01-02T03:04:05Z general [1a2b3c4d] * alice waves
//   2024-01-02T03:04:05Z general [5e6f7a8b] bob (reply to 1a2b3c4d): hi
//   2024-01-02T03:04:05Z general [9c0d1e2f] bob reacted 👍 to 1a2b3c4d
//   2024-01-02T03:04:05Z general [3a4b5c6d] alice set the topic: releases
// The sender is the author's short node id when the message names none.
std::string ChatMessageLine(const v1::ChatMessage& message);
nlohmann::json ChatMessageJson(const v1::ChatMessage& message);

// "<cursor> " followed by ChatMessageLine, for chat watch.
std::string ChatWatchLine(const v1::ChatMessage& message);

std::string HistoryText(const v1::HistoryResponse& response);
// {"messages":[...],"next_before"}
nlohmann::json HistoryJson(const v1::HistoryResponse& response);

std::string TopicText(const v1::Topic& topic);
// {"set","text","sender","author","hlc"}
nlohmann::json TopicJson(const v1::Topic& topic);

std::string ChannelsText(const v1::ListChannelsResponse& response);
nlohmann::json ChannelsJson(const v1::ListChannelsResponse& response);

}  // namespace lattice::ctl
