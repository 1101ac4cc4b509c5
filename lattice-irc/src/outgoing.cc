// Per-capability rendering of outgoing messages (see outgoing.h).
#include "outgoing.h"

#include "text_lines.h"

namespace lattice::irc {

Outgoing::Outgoing(Message message, bool trailing, uint64_t time_ms, std::string msgid,
                   std::string batch, std::vector<Tag> client_tags)
    : message_(std::move(message)),
      trailing_(trailing),
      time_ms_(time_ms),
      msgid_(std::move(msgid)),
      batch_(std::move(batch)),
      client_tags_(std::move(client_tags)) {}

const std::string& Outgoing::For(CapSet caps) {
  bool time = (caps & kCapServerTime) != 0 && time_ms_ != 0;
  bool tags = (caps & kCapMessageTags) != 0;
  bool batch = (caps & kCapBatch) != 0 && !batch_.empty();
  size_t slot = (time ? 1 : 0) | (tags ? 2 : 0) | (batch ? 4 : 0);
  auto& cached = rendered_[slot];
  if (!cached) {
    Message m = message_;
    if (batch) m.tags.push_back({"batch", batch_});
    if (time) m.tags.push_back({"time", FormatServerTime(time_ms_)});
    if (tags) {
      if (!msgid_.empty()) m.tags.push_back({"msgid", msgid_});
      for (const auto& tag : client_tags_) m.tags.push_back(tag);
    }
    cached = Render(m, trailing_);
  }
  return *cached;
}

}  // namespace lattice::irc
