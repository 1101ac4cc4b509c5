#include "rpc/stream_pump.h"

#include <fmt/format.h>

#include "lattice/common/limits.h"

namespace lattice::kernel {

StreamSlot::~StreamSlot() { pump_.Release(peer_, credential_); }

StreamPump::StreamPump() : thread_([this] { Run(); }) {}

StreamPump::~StreamPump() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_cv_.notify_one();
  thread_.join();
}

absl::StatusOr<std::unique_ptr<StreamSlot>> StreamPump::Admit(const std::string& peer,
                                                              const std::string& credential) {
  std::lock_guard lock(counts_mutex_);
  size_t& of_peer = per_peer_[peer];
  size_t& of_credential = per_credential_[credential];
  if (of_credential >= limits::kMaxStreamsPerToken || of_peer >= limits::kMaxStreamsPerPeer) {
    bool credential_full = of_credential >= limits::kMaxStreamsPerToken;
    if (of_peer == 0) per_peer_.erase(peer);
    if (of_credential == 0) per_credential_.erase(credential);
    if (credential_full) {
      return absl::ResourceExhaustedError(fmt::format(
          "{} already has {} open streams, the most one credential may hold; end one first",
          credential, limits::kMaxStreamsPerToken));
    }
    return absl::ResourceExhaustedError(fmt::format(
        "this client already has {} open streams, the most one peer may hold; end one first",
        limits::kMaxStreamsPerPeer));
  }
  ++of_peer;
  ++of_credential;
  return std::make_unique<StreamSlot>(*this, peer, credential);
}

void StreamPump::Release(const std::string& peer, const std::string& credential) {
  std::lock_guard lock(counts_mutex_);
  if (--per_peer_[peer] == 0) per_peer_.erase(peer);
  if (--per_credential_[credential] == 0) per_credential_.erase(credential);
}

void StreamPump::Add(PumpedStream* stream) {
  {
    std::lock_guard lock(mutex_);
    added_.push_back(stream);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

void StreamPump::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

void StreamPump::BeginStopping() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    woken_ = true;
  }
  wake_cv_.notify_one();
}

void StreamPump::Run() {
  std::vector<PumpedStream*> active;
  auto next_tick = std::chrono::steady_clock::now() + kStreamTick;
  std::unique_lock lock(mutex_);
  while (true) {
    // With no stream open there is nothing to tick for: sleep until one is added.
    if (active.empty()) {
      wake_cv_.wait(lock, [&] { return woken_ || quit_; });
    } else {
      wake_cv_.wait_until(lock, next_tick, [&] { return woken_ || quit_; });
    }
    if (quit_) return;
    woken_ = false;
    active.insert(active.end(), added_.begin(), added_.end());
    added_.clear();
    bool stopping = stopping_;
    lock.unlock();
    auto now = std::chrono::steady_clock::now();
    bool tick = now >= next_tick;
    if (tick) next_tick = now + kStreamTick;
    // A finished stream may be gone at once (gRPC's OnDone deletes it): drop it unread.
    std::erase_if(active, [&](PumpedStream* stream) { return !stream->Pump(tick, stopping); });
    lock.lock();
  }
}

}  // namespace lattice::kernel
