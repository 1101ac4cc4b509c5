// IRC names: rfc1459 case folding (CASEMAPPING=rfc1459: A-Z [ ] \ ~ fold to a-z { } | ^),
// and what makes a nickname or a channel name valid on this gateway.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lattice::irc {

std::string FoldCase(std::string_view name);
bool EqualsFolded(std::string_view a, std::string_view b);

// RFC 2812 §2.3.1: a letter or one of []\`_^{|} first, then letters, digits, those and '-';
// at most limits::kMaxNickBytes.
bool IsValidNick(std::string_view nick);

// Nicknames ending in "|" and eight hex digits (optionally "-N") name users of other nodes
// (see nick_directory.h); local clients may not take them.
bool IsReservedRemoteNick(std::string_view nick);

// A '#', then at least one byte that is none of NUL, BEL, CR, LF, space, ',' or ':' and
// valid UTF-8; at most limits::kMaxChannelNameBytes.
bool IsValidChannelName(std::string_view name);

// Channels map to channels of the chat store by their canonical name (without the '#',
// folded; lattice/common/chat_channel.h), as lattice-ctl's and the kernel's do: "#General"
// and "#general" are the chat channel "general".
std::string StoreChannelFor(std::string_view irc_channel);
// The IRC channel for a chat channel: "#" + its canonical name (so "#general", stored so
// by earlier versions, is #general too). Empty when the chat channel's name cannot be an
// IRC channel (it holds a space, a comma, ...).
std::string IrcChannelFor(std::string_view store_channel);

// The non-empty items of a comma-separated target list ("#a,#b").
std::vector<std::string> SplitCommaList(std::string_view list);

}  // namespace lattice::irc
