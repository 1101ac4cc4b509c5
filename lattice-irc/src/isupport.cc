// The ISUPPORT token list (see isupport.h); every value comes from limits.h.
#include "isupport.h"

#include <fmt/format.h>

#include <algorithm>

#include "chathistory.h"
#include "limits.h"

namespace lattice::irc {

std::vector<std::string> IsupportTokens(const std::string& network_name) {
  return {
      "AWAYLEN=" + std::to_string(limits::kMaxAwayBytes),
      "CASEMAPPING=rfc1459",
      fmt::format("CHANLIMIT=#:{}", limits::kMaxChannelsPerClient),
      // draft/chathistory: the most messages one CHATHISTORY answers.
      fmt::format("CHATHISTORY={}", kMaxChatHistoryLimit),
      // channel_modes.h: b is per gateway, k l and imnst are stored with the channel.
      "CHANMODES=b,k,l,imnst",
      "CHANNELLEN=" + std::to_string(limits::kMaxChannelNameBytes),
      "CHANTYPES=#",
      // LIST conditions: masks, negative masks, user counts (see HandleList).
      "ELIST=MNU",
      "LINELEN=" + std::to_string(limits::kMaxLineBytes),
      fmt::format("KEYLEN={}", limits::kMaxKeyBytes),
      fmt::format("MAXLIST=b:{}", limits::kMaxBans),
      fmt::format("MODES={}", limits::kMaxModeParams),
      fmt::format("MONITOR={}", limits::kMaxMonitorTargets),
      "MSGREFTYPES=msgid,timestamp",
      "NETWORK=" + network_name,
      "NICKLEN=" + std::to_string(limits::kMaxNickBytes),
      "PREFIX=(ov)@+",
      "STATUSMSG=@+",
      fmt::format("TARGMAX=JOIN:{0},NOTICE:{0},PART:{0},PRIVMSG:{0},TAGMSG:{0},WHOIS:1",
                  limits::kMaxTargets),
      "TOPICLEN=" + std::to_string(limits::kMaxTopicBytes),
      "USERLEN=" + std::to_string(limits::kMaxUserBytes),
      "UTF8ONLY",
  };
}

std::vector<std::vector<std::string>> IsupportLines(const std::vector<std::string>& tokens) {
  constexpr size_t kTokensPerLine = 13;
  std::vector<std::vector<std::string>> lines;
  for (size_t i = 0; i < tokens.size(); i += kTokensPerLine) {
    size_t end = std::min(tokens.size(), i + kTokensPerLine);
    lines.emplace_back(tokens.begin() + static_cast<std::ptrdiff_t>(i),
                       tokens.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return lines;
}

}  // namespace lattice::irc
