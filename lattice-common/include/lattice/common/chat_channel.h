// Chat channel names as people write them and as chat stores hold them, so that one name
// means one channel in lattice-ctl, the kernel and lattice-irc alike: "#General",
// "#general" and "general" all name the stored channel "general", which IRC shows as
// "#general".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lattice {

// IRC's rfc1459 case folding (CASEMAPPING=rfc1459): A-Z [ ] \ ~ fold to a-z { } | ^.
std::string FoldIrcCase(std::string_view name);

// The stored form of a channel name: without one leading '#', folded with FoldIrcCase.
// An empty name (or "#" alone) stays empty, which the store refuses.
std::string CanonicalChatChannel(std::string_view name);

// The names under which the channel asked for as `name` may be stored, canonical first:
// the canonical name, "#" + it, and `name` exactly as written (earlier versions stored
// names as written, '#' and case included), each once.
std::vector<std::string> StoredChatChannelNames(std::string_view name);

// How a stored channel name is shown: its canonical name when it is one of the stored
// names of that canonical name, else as stored (an earlier version's "General" stays
// reachable under that name).
std::string ListedChatChannel(std::string_view stored);

}  // namespace lattice
