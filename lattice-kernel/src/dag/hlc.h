// Hybrid logical clock shared by every store of a node: local events take
// max(previous + 1 tick, now); observed remote stamps move the clock forward.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

namespace lattice::kernel {

struct HlcStamp {
  uint64_t wall_ms = 0;
  uint32_t counter = 0;

  auto operator<=>(const HlcStamp&) const = default;
};

// Thread-safe.
class HybridClock {
 public:
  using WallClock = std::function<uint64_t()>;

  // `wall` returns milliseconds since the epoch; tests pass a fake.
  explicit HybridClock(WallClock wall = SystemWallMs);

  HlcStamp Now();
  void Observe(const HlcStamp& remote);
  uint64_t WallMs() const { return wall_(); }

  static uint64_t SystemWallMs();

 private:
  WallClock wall_;
  std::mutex mutex_;
  HlcStamp last_;
};

}  // namespace lattice::kernel
