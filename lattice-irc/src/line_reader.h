// Splits the bytes a client sends into lines. A line ends at LF or CR (so CR LF, LF and CR
// all work, and empty lines are skipped); a line longer than limits::kMaxInputLineBytes is
// reported once and discarded up to its end, so a client cannot make the buffer grow.
#pragma once

#include <string>
#include <string_view>

#include "limits.h"

namespace lattice::irc {

// Owned by one connection on the event loop; not thread-safe.
class LineReader {
 public:
  explicit LineReader(size_t max_line_bytes = limits::kMaxInputLineBytes)
      : max_line_bytes_(max_line_bytes) {}

  void Append(std::string_view bytes);

  enum class Next {
    kNone,     // no complete line yet
    kLine,     // *line holds the next line, without its terminator
    kTooLong,  // a line exceeded the limit and was (or is being) discarded
  };
  Next Pop(std::string* line);

  // Bytes received and not yet returned: what a flooding client has queued.
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  void Compact();

  size_t max_line_bytes_;
  std::string buffer_;
  size_t start_ = 0;
  // The current line overflowed; its bytes are dropped until the next terminator.
  bool discarding_ = false;
  bool overflow_reported_ = false;
};

}  // namespace lattice::irc
