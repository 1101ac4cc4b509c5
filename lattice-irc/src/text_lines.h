// Text from the chat store made fit for IRC: one IRC message per line of the text, each cut
// at UTF-8 boundaries (preferably at a space) so the rendered line stays within 512 bytes.
// Stored text may come from any node and any tool, so this is where newlines stop being
// able to inject commands.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lattice::irc {

// Splits `text` at CR/LF and cuts each piece to at most `max_bytes`. Empty pieces are
// dropped, but an empty text gives one empty piece. REQUIRES: max_bytes >= 4.
std::vector<std::string> SplitForIrc(std::string_view text, size_t max_bytes);

// "2024-05-01T12:34:56.789Z" (the IRCv3 server-time format) for Unix milliseconds.
std::string FormatServerTime(uint64_t unix_ms);

}  // namespace lattice::irc
