// RPL_ISUPPORT (005): what this gateway tells clients about its limits and conventions.
#pragma once

#include <string>
#include <vector>

namespace lattice::irc {

// The tokens, in a fixed order, e.g. "CASEMAPPING=rfc1459", "CHANTYPES=#", "UTF8ONLY".
std::vector<std::string> IsupportTokens(const std::string& network_name);

// The tokens grouped for 005 lines: at most 13 per line, as RFC 2812-era clients expect.
std::vector<std::vector<std::string>> IsupportLines(const std::vector<std::string>& tokens);

}  // namespace lattice::irc
