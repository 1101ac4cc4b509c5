// Capability names and CAP REQ parsing (see capabilities.h).
#include "capabilities.h"

#include <array>
#include <utility>

namespace lattice::irc {
namespace {

constexpr std::array<std::pair<Capability, std::string_view>, 10> kNames = {{
    {kCapServerTime, "server-time"},
    {kCapMessageTags, "message-tags"},
    {kCapEchoMessage, "echo-message"},
    {kCapBatch, "batch"},
    {kCapLabeledResponse, "labeled-response"},
    {kCapChatHistory, "draft/chathistory"},
    {kCapMultiPrefix, "multi-prefix"},
    {kCapUserhostInNames, "userhost-in-names"},
    {kCapAwayNotify, "away-notify"},
    {kCapExtendedMonitor, "extended-monitor"},
}};

}  // namespace

std::string CapNames(CapSet caps) {
  std::string out;
  for (const auto& [cap, name] : kNames) {
    if ((caps & cap) == 0) continue;
    if (!out.empty()) out.push_back(' ');
    out += name;
  }
  return out;
}

CapRequest ParseCapRequest(std::string_view list) {
  CapRequest request;
  size_t pos = 0;
  bool any = false;
  while (pos < list.size()) {
    size_t end = list.find(' ', pos);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    any = true;
    bool disable = item.front() == '-';
    if (disable) item.remove_prefix(1);
    bool known = false;
    for (const auto& [cap, name] : kNames) {
      if (item != name) continue;
      known = true;
      (disable ? request.disable : request.enable) |= cap;
    }
    if (!known) return CapRequest{};
  }
  request.ok = any;
  return request;
}

}  // namespace lattice::irc
