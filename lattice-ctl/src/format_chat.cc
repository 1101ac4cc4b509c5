#include "format_chat.h"

#include <fmt/format.h>

#include "output.h"

namespace lattice::ctl {
namespace {

constexpr size_t kShortHash = 8;

std::string SenderOf(const v1::ChatMessage& message) {
  if (!message.sender().empty()) return EscapeForLine(message.sender());
  return AbbreviateId(message.author(), kShortHash);
}

// "+t +k key -l", as IRC writes a change of modes.
std::string ModeChangesText(const v1::ChatMessage& message) {
  std::string out;
  for (const auto& change : message.modes()) {
    if (!out.empty()) out += ' ';
    out += (change.on() ? "+" : "-") + EscapeForLine(change.mode());
    if (change.on() && !change.arg().empty()) out += " " + EscapeForLine(change.arg());
  }
  return out;
}

nlohmann::json ModesJson(const google::protobuf::RepeatedPtrField<v1::ChannelMode>& modes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& mode : modes) {
    out.push_back({{"mode", mode.mode()},     {"arg", mode.arg()},
                   {"sender", mode.sender()}, {"author", mode.author()},
                   {"hlc", HlcJson(mode.hlc())}});
  }
  return out;
}

}  // namespace

std::string ChatMessageLine(const v1::ChatMessage& message) {
  std::string head = fmt::format("{} {} [{}]", FormatTimeMs(message.hlc().wall_ms()),
                                 EscapeForLine(message.channel()),
                                 AbbreviateId(message.hash(), kShortHash));
  std::string sender = SenderOf(message);
  std::string text = EscapeForLine(message.text());
  std::string ref = AbbreviateId(message.ref(), kShortHash);
  const std::string& kind = message.kind();
  if (kind == "reply") return fmt::format("{} {} (reply to {}): {}", head, sender, ref, text);
  if (kind == "react") return fmt::format("{} {} reacted {} to {}", head, sender, text, ref);
  if (kind == "topic") return fmt::format("{} {} set the topic: {}", head, sender, text);
  if (kind == "modes") {
    return fmt::format("{} {} set modes: {}", head, sender, ModeChangesText(message));
  }
  if (message.action()) return fmt::format("{} * {} {}", head, sender, text);
  return fmt::format("{} {}: {}", head, sender, text);
}

nlohmann::json ChatMessageJson(const v1::ChatMessage& message) {
  nlohmann::json out = {
      {"hash", message.hash()},     {"channel", message.channel()},
      {"kind", message.kind()},     {"text", message.text()},
      {"sender", message.sender()}, {"author", message.author()},
      {"hlc", HlcJson(message.hlc())}, {"cursor", message.cursor()},
  };
  if (!message.msgid().empty()) out["msgid"] = message.msgid();
  if (message.time_ms() != 0) out["time_ms"] = message.time_ms();
  if (!message.ref().empty()) out["ref"] = message.ref();
  if (!message.ref_msgid().empty()) out["ref_msgid"] = message.ref_msgid();
  if (message.action()) out["action"] = true;
  if (!message.tags().empty()) {
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& tag : message.tags()) tags.push_back({{"key", tag.key()}, {"value", tag.value()}});
    out["tags"] = std::move(tags);
  }
  if (!message.modes().empty()) {
    nlohmann::json modes = nlohmann::json::array();
    for (const auto& change : message.modes()) {
      modes.push_back({{"mode", change.mode()}, {"on", change.on()}, {"arg", change.arg()}});
    }
    out["modes"] = std::move(modes);
  }
  return out;
}

std::string ChatWatchLine(const v1::ChatMessage& message) {
  return fmt::format("{} {}", message.cursor(), ChatMessageLine(message));
}

std::string HistoryText(const v1::HistoryResponse& response) {
  std::string out;
  for (const auto& message : response.messages()) out += ChatMessageLine(message) + "\n";
  if (!response.next_before().empty()) {
    out += fmt::format("(older messages: --before {})\n", response.next_before());
  }
  return out;
}

nlohmann::json HistoryJson(const v1::HistoryResponse& response) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& message : response.messages()) messages.push_back(ChatMessageJson(message));
  return nlohmann::json{{"messages", std::move(messages)},
                        {"next_before", response.next_before()}};
}

std::string TopicText(const v1::Topic& topic) {
  if (!topic.set()) return "(no topic)\n";
  std::string by = topic.sender().empty() ? AbbreviateId(topic.author(), kShortHash)
                                          : EscapeForLine(topic.sender());
  return fmt::format("{}\n(set by {} at {})\n", EscapeForLine(topic.text()), by,
                     FormatTimeMs(topic.hlc().wall_ms()));
}

nlohmann::json TopicJson(const v1::Topic& topic) {
  return nlohmann::json{{"set", topic.set()},
                        {"text", topic.text()},
                        {"sender", topic.sender()},
                        {"author", topic.author()},
                        {"hlc", HlcJson(topic.hlc())}};
}

std::string ChannelsText(const v1::ListChannelsResponse& response) {
  if (response.channels().empty()) return "(no channels)\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& channel : response.channels()) {
    rows.push_back({EscapeForLine(channel.name()), std::to_string(channel.messages()),
                    channel.topic().set() ? EscapeForLine(channel.topic().text()) : ""});
  }
  return FormatTable({"CHANNEL", "MESSAGES", "TOPIC"}, rows);
}

nlohmann::json ChannelsJson(const v1::ListChannelsResponse& response) {
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& channel : response.channels()) {
    channels.push_back({{"name", channel.name()},
                        {"messages", channel.messages()},
                        {"topic", TopicJson(channel.topic())},
                        {"modes", ModesJson(channel.modes())}});
  }
  return nlohmann::json{{"channels", std::move(channels)}};
}

}  // namespace lattice::ctl
