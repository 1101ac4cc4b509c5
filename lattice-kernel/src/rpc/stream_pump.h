// Serves the kernel's server streams (Kv.Scan, Kv.Watch, Chat.Watch) without a thread each:
// every open stream is a gRPC callback reactor, and one pump thread produces their pages.
// A stream has at most one page in flight, so a client that stops reading costs the kernel
// one page instead of the rest of the log. The pump runs a stream again when its last write
// completed, when a store's log advanced, and every kStreamTick (cursor refreshes, the
// credential's re-check, the kernel's stop).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace lattice::kernel {

inline constexpr auto kStreamTick = std::chrono::milliseconds(250);

// One open stream as the pump sees it.
class PumpedStream {
 public:
  virtual ~PumpedStream() = default;
  // Does the stream's next step: nothing while its last write is in flight, else at most one
  // page. `tick`: a kStreamTick has passed. `stopping`: the kernel is stopping. Returns false
  // once the stream has finished, after which it may already be gone. Pump thread only.
  virtual bool Pump(bool tick, bool stopping) = 0;
};

class StreamPump;

// An open stream's place in the per-credential and per-peer counts, given back on
// destruction.
class StreamSlot {
 public:
  StreamSlot(StreamPump& pump, std::string peer, std::string credential)
      : pump_(pump), peer_(std::move(peer)), credential_(std::move(credential)) {}
  ~StreamSlot();
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;

 private:
  StreamPump& pump_;
  std::string peer_;
  std::string credential_;
};

// Thread-safe. Outlives every stream it was given: the server's Wait() returns only once
// every stream is done, and only then may the pump be destroyed.
class StreamPump {
 public:
  StreamPump();
  ~StreamPump();
  StreamPump(const StreamPump&) = delete;
  StreamPump& operator=(const StreamPump&) = delete;

  // A slot for one more stream of `peer` (gRPC's peer string) using `credential` (a token
  // id, or the admin cookie), or RESOURCE_EXHAUSTED past limits::kMaxStreamsPerPeer or
  // limits::kMaxStreamsPerToken.
  absl::StatusOr<std::unique_ptr<StreamSlot>> Admit(const std::string& peer,
                                                    const std::string& credential);
  // Starts pumping `stream`, which stays alive until its Pump returns false.
  void Add(PumpedStream* stream);
  // Runs every stream soon. Any thread; quick, so a store may call it as it commits.
  void Wake();
  // From now on every stream ends (UNAVAILABLE) at its next step.
  void BeginStopping();

 private:
  friend class StreamSlot;
  void Release(const std::string& peer, const std::string& credential);
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  bool stopping_ = false;
  bool quit_ = false;
  std::vector<PumpedStream*> added_;  // handed to the pump thread at its next pass

  std::mutex counts_mutex_;
  std::map<std::string, size_t> per_peer_;
  std::map<std::string, size_t> per_credential_;

  std::thread thread_;  // last: starts once the rest is constructed
};

}  // namespace lattice::kernel
