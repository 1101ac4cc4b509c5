// Follows the store's changes (Fs.Watch) and hands those this mount's own calls did not make
// (other nodes', and other clients' of this node) to the file system, which drops what the
// FUSE kernel module caches of them. Reconnects with backoff after the kernel restarts,
// resuming from the last cursor it saw. Knows when it has heard every change the kernel
// applied: its cursor equals the store's published witness (published_witness.h).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "lattice/common/published_witness.h"

#include <grpcpp/grpcpp.h>

#include "lattice/v1/fs_service.pb.h"
#include "src/kernel_link.h"

namespace lattice::fuse {

class Watcher {
 public:
  using OnChange = std::function<void(const v1::FsChange&)>;
  // `on_start` runs when the first watch starts, before anything is counted as heard: what
  // the mount learnt before that moment may predate a change the watch will not tell.
  Watcher(KernelLink* link, OnChange on_change, std::function<void()> on_start = {});
  ~Watcher();
  void Start();
  void Stop();

  // Whether every change the kernel has applied to the store so far has been handed to
  // on_change (or was this mount's own): the watch is live and its cursor is the store's
  // published witness. Anything acknowledged to any client before this call began counts.
  bool HeardAll() const;

 private:
  void Run();
  void NoteWitnessFile(const std::string& path);

  KernelLink* link_;
  OnChange on_change_;
  std::function<void()> on_start_;
  // The cursor up to which every change was handed on; 0 while no watch is live.
  std::atomic<uint64_t> heard_{0};
  // The published witness of the store, once a watch named it; every file named so far is
  // kept mapped (a kernel names the same one each time), so a reader never unmaps it.
  std::atomic<const PublishedWitnessReader*> published_{nullptr};
  std::vector<std::unique_ptr<PublishedWitnessReader>> readers_;  // guarded by mu_
  std::thread thread_;
  std::mutex mu_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;
  uint64_t cursor_ = 0;
};

}  // namespace lattice::fuse
