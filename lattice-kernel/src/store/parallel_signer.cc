#include "store/parallel_signer.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "dag/intention.h"
#include "store/worker_pool.h"

namespace lattice::kernel {
namespace {

// Below this many signatures a share is not worth a helper's wake-up: on a machine whose
// cores the RPC threads keep busy, a wake-up and the wait for the helper cost more than a
// few signatures (about 15 us each), and the writer usually signs while a commit is in
// flight anyway.
constexpr size_t kMinShare = 16;

size_t HelperThreads() {
  static const size_t helpers = [] {
    unsigned cores = std::thread::hardware_concurrency();
    return cores > 1 ? std::min<size_t>(cores - 1, 3) : 0;
  }();
  return helpers;
}

// Never destroyed: stores of any lifetime, static ones included, may still be signing
// while the process exits.
WorkerPool& Helpers() {
  static WorkerPool* pool = new WorkerPool(HelperThreads());
  return *pool;
}

void SignRange(const KeyPair& key, const std::vector<v1::SignedIntention*>& intentions,
               size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) SignBody(key, intentions[i]);
}

}  // namespace

void SignAll(const KeyPair& key, const std::vector<v1::SignedIntention*>& intentions) {
  const size_t n = intentions.size();
  const size_t shares = std::min(HelperThreads() + 1, n / kMinShare);
  if (shares <= 1) {
    SignRange(key, intentions, 0, n);
    return;
  }
  std::mutex mutex;
  std::condition_variable cv;
  size_t helping = shares - 1;
  for (size_t share = 1; share < shares; ++share) {
    Helpers().Post([&, share] {
      SignRange(key, intentions, share * n / shares, (share + 1) * n / shares);
      std::lock_guard lock(mutex);
      // Under the lock: once `helping` reaches 0 the caller may return and destroy the cv.
      if (--helping == 0) cv.notify_one();
    });
  }
  SignRange(key, intentions, 0, n / shares);
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return helping == 0; });
}

}  // namespace lattice::kernel
