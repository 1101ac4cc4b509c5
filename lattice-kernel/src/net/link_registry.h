// The live links of one transport. Its thread shuts down the stream of a closing link once
// the link's close_flush_timeout has passed (so a silent peer cannot hold a closing link),
// and joins the threads of links that ended. Shutting the registry down closes every link
// and waits for all of them: after that, no link callback runs.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "net/stream_link.h"

namespace lattice::kernel::net {

// Thread-safe.
class LinkRegistry {
 public:
  LinkRegistry();
  // Shuts down (see ShutDown). REQUIRES: not called on a link's thread.
  ~LinkRegistry();

  // Tracks `core`; false (and `core` is not tracked) once shutting down.
  bool Add(std::shared_ptr<LinkCore> core);
  // A link began closing or ended: look again.
  void Wake();
  // Closes every link with `reason` and waits until their threads have ended. Idempotent.
  // REQUIRES: not called on a link's thread.
  void ShutDown(const absl::Status& reason);
  size_t live_links() const;

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<LinkCore>> cores_;
  bool stopping_ = false;
  std::mutex shutdown_mu_;  // one ShutDown at a time
  std::thread thread_;
};

}  // namespace lattice::kernel::net
