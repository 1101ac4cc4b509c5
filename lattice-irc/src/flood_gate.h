// Per-client flood control. FloodGate is the penalty, as a token bucket of lines: a line
// costs one token (1/per_second seconds of the client's time); the bucket holds `burst`
// tokens, how far a client may run ahead. A client out of tokens is not cut off: its lines
// wait until the bucket refills. ClientInput puts the penalty together with line framing
// and the server's hold, and says when to read from the socket and when the input a client
// left unhandled is beyond the bound (see tcp_server.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "limits.h"
#include "line_reader.h"

namespace lattice::irc {

// Plain value owned by one connection; not thread-safe. Times are steady milliseconds.
class FloodGate {
 public:
  FloodGate(double burst = limits::kFloodBurstLines,
            double per_second = limits::kFloodLinesPerSecond, int64_t now_ms = 0);

  // Takes one token when there is one.
  bool TryTake(int64_t now_ms);

  // Milliseconds until a token is available (0 when one is).
  int64_t MsUntilToken(int64_t now_ms);

  double tokens() const { return tokens_; }

 private:
  void Refill(int64_t now_ms);

  double burst_;
  double per_ms_;
  double tokens_;
  int64_t last_ms_;
};

// One client's input between its socket and the IRC server. Plain value, not thread-safe;
// times are steady milliseconds.
class ClientInput {
 public:
  struct Options {
    double burst = limits::kFloodBurstLines;
    double per_second = limits::kFloodLinesPerSecond;
    size_t read_pause = limits::kReadPauseBytes;     // stop reading with this much waiting
    size_t max_unhandled = limits::kMaxRecvQueueBytes;  // beyond: disconnect
  };
  ClientInput(Options options, int64_t now_ms);

  void Append(std::string_view bytes) { reader_.Append(bytes); }
  // The server waits for the kernel on the client's behalf: no line goes out meanwhile.
  void SetHeld(bool held) { held_ = held; }
  bool held() const { return held_; }

  struct Step {
    enum class Kind {
      kLine,     // hand `line` to the server (its cost is paid)
      kTooLong,  // tell the server a line was too long (paid like a line)
      kWait,     // the next line waits `wait_ms` for the penalty
      kIdle,     // no complete line, or held by the server
    };
    Kind kind = Kind::kIdle;
    std::string line;
    int64_t wait_ms = 0;
  };
  Step Next(int64_t now_ms);

  // Bytes received and not handed to the server yet.
  size_t pending() const {
    return reader_.buffered() + (waiting_ ? waiting_->second.size() : 0);
  }
  // Whether to read more from the socket now.
  bool WantsRead() const { return pending() < options_.read_pause; }
  // Whether the client's unhandled input, with `unread` bytes still in the socket, is
  // beyond the bound.
  bool Exceeds(size_t unread) const { return pending() + unread > options_.max_unhandled; }

 private:
  Options options_;
  LineReader reader_;
  FloodGate gate_;
  // The next line, taken from `reader_` but waiting for its turn.
  std::optional<std::pair<LineReader::Next, std::string>> waiting_;
  bool held_ = false;
};

}  // namespace lattice::irc
