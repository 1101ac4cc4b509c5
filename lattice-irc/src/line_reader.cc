// Line framing of client input (see line_reader.h).
#include "line_reader.h"

#include <algorithm>

namespace lattice::irc {

void LineReader::Append(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }

void LineReader::Compact() {
  if (start_ == 0) return;
  if (start_ >= buffer_.size()) {
    buffer_.clear();
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
  } else {
    return;
  }
  start_ = 0;
}

LineReader::Next LineReader::Pop(std::string* line) {
  while (true) {
    std::string_view pending(buffer_.data() + start_, buffer_.size() - start_);
    size_t end = pending.find_first_of("\r\n");
    if (discarding_) {
      if (end == std::string_view::npos) {
        // Keep nothing of an overlong line.
        buffer_.clear();
        start_ = 0;
        if (!overflow_reported_) {
          overflow_reported_ = true;
          return Next::kTooLong;
        }
        return Next::kNone;
      }
      start_ += end + 1;
      discarding_ = false;
      bool report = !overflow_reported_;
      overflow_reported_ = false;
      Compact();
      if (report) return Next::kTooLong;
      continue;
    }
    if (end == std::string_view::npos) {
      if (pending.size() > max_line_bytes_) {
        discarding_ = true;
        continue;
      }
      Compact();
      return Next::kNone;
    }
    if (end == 0) {  // the LF of a CR LF, or an empty line
      ++start_;
      continue;
    }
    if (end > max_line_bytes_) {
      start_ += end + 1;
      Compact();
      return Next::kTooLong;
    }
    line->assign(pending.data(), end);
    start_ += end + 1;
    Compact();
    return Next::kLine;
  }
}

}  // namespace lattice::irc
