// Helpers of the net tests: waiting for a condition with a deadline, and a probe that
// records what a link delivers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "net/transport.h"

namespace lattice::kernel::net::testing {

using namespace std::chrono_literals;

// Polls `condition` until it holds or `timeout` passes; true when it held.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Records the payloads and the close of one link. Thread-safe; its handler keeps what it
// records alive, so the probe may go before the link.
class LinkProbe {
 public:
  LinkProbe();

  Link::Handler handler();

  bool WaitForPayloads(size_t count, std::chrono::milliseconds timeout);
  bool WaitForClose(std::chrono::milliseconds timeout);

  std::vector<std::string> payloads() const;
  size_t payload_count() const;
  uint64_t payload_bytes() const;
  bool closed() const;
  absl::Status close_reason() const;
  int close_calls() const;
  // Counts bytes without keeping payloads (for long runs).
  void CountOnly();

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> payloads;
    uint64_t payload_bytes = 0;
    bool keep_payloads = true;
    int close_calls = 0;
    absl::Status close_reason;
  };
  std::shared_ptr<State> state_;
};

// Links handed to a listener, and the connections it refused. Thread-safe; its handlers
// keep what they record alive.
class AcceptLog {
 public:
  AcceptLog();
  ListenHandlers handlers();

  // The next accepted link, or nullptr after `timeout`.
  std::shared_ptr<Link> NextLink(std::chrono::milliseconds timeout);
  // The next refusal's reason, or nullopt after `timeout`.
  std::optional<absl::Status> NextRefusal(std::chrono::milliseconds timeout);

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::shared_ptr<Link>> links;
    std::vector<absl::Status> refusals;
  };
  std::shared_ptr<State> state_;
};

// A payload whose bytes depend on `index` and `size` only, so the receiver can check it.
std::string PatternPayload(uint64_t index, size_t size);

}  // namespace lattice::kernel::net::testing
