// The stream behind Kv.Watch and Chat.Watch: the witness log from a cursor, then followed
// live. The first response (possibly without events) names the starting cursor, and an idle
// stream sends its advanced cursor about every second, so a client that reconnects resumes
// exactly where it stopped even when nothing it cares about has happened. A page holds the
// events of whole intentions, so resuming from any cursor a page names loses nothing.
#pragma once

#include <fmt/format.h>

#include <chrono>

#include "lattice/common/limits.h"
#include "rpc/stream_reactor.h"

namespace lattice::kernel {

inline constexpr auto kWatchCursorRefresh = std::chrono::seconds(1);
// Intentions a watch reads from the log per step at most, matching or not.
inline constexpr size_t kWatchLogPage = 256;

template <typename Response>
class WatchStream : public StreamReactor<Response> {
 protected:
  using Step = typename StreamReactor<Response>::Step;

  WatchStream(ServiceContext& ctx, grpc::CallbackServerContext* context, bool from_now,
              uint64_t from_cursor)
      : StreamReactor<Response>(ctx, context), from_now_(from_now), cursor_(from_cursor) {}

  // Adds the events `intention` yields to `out`; returns how many bytes they take.
  virtual size_t Collect(Response& out, uint64_t witness, const DecodedIntention& intention,
                         bool noop) = 0;
  virtual int EventCount(const Response& out) const = 0;
  // Adds what the first response says besides its cursor.
  virtual void Opening(Response& /*out*/) {}
  // Sends the cursor as soon as it moves past intentions that yielded no event, instead of
  // about every second: for a client that compares it with the store's published witness.
  void set_cursor_at_once(bool at_once) { cursor_at_once_ = at_once; }

  absl::Status Start(const StoreAccess& access) override {
    uint64_t end = access.store->last_witness();
    if (from_now_) {
      cursor_ = end;
    } else if (cursor_ > end) {
      return absl::OutOfRangeError(fmt::format(
          "cursor {} is beyond the end of store {}'s log, which is at {}; a cursor comes "
          "from this store's own watch responses",
          cursor_, access.descriptor.name, end));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Step> Next(Response& out, bool tick) override {
    auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      Opening(out);
      return Send(out, now);
    }
    if (this->store().last_witness() <= cursor_) {
      bool refresh = cursor_ != sent_cursor_ &&
                     (cursor_at_once_ || (tick && now - last_sent_ >= kWatchCursorRefresh));
      return refresh ? Send(out, now) : Step::kIdle;
    }
    size_t bytes = 0;
    uint64_t scanned = cursor_;
    absl::Status s = this->store().ReadLog(
        cursor_, kWatchLogPage,
        [&](uint64_t witness, const DecodedIntention& intention, bool noop) {
          if (bytes >= limits::kMaxStreamPageBytes) return false;
          scanned = witness;
          bytes += Collect(out, witness, intention, noop);
          return true;
        });
    if (!s.ok()) return s;
    cursor_ = scanned;
    if (EventCount(out) > 0) return Send(out, now);
    // Read past intentions this watch does not show: read on at the next step.
    if (this->store().last_witness() > cursor_) {
      this->pump().Wake();
      return Step::kIdle;
    }
    return cursor_at_once_ && cursor_ != sent_cursor_ ? Send(out, now) : Step::kIdle;
  }

  std::string StoppingMessage() const override {
    return fmt::format("the kernel is stopping; resume the watch from cursor {}", cursor_);
  }

 private:
  Step Send(Response& out, std::chrono::steady_clock::time_point now) {
    out.set_cursor(cursor_);
    sent_cursor_ = cursor_;
    last_sent_ = now;
    return Step::kWrite;
  }

  bool from_now_;
  bool cursor_at_once_ = false;
  bool started_ = false;
  uint64_t cursor_;
  uint64_t sent_cursor_ = 0;
  std::chrono::steady_clock::time_point last_sent_;
};

}  // namespace lattice::kernel
