// Follows the store's changes (Fs.Watch) and hands those this mount's own calls did not make
// (other nodes', and other clients' of this node) to the file system, which drops what the
// FUSE kernel module caches of them. Reconnects with backoff after the kernel restarts,
// resuming from the last cursor it saw.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "lattice/v1/fs_service.pb.h"
#include "src/kernel_link.h"

namespace lattice::fuse {

class Watcher {
 public:
  using OnChange = std::function<void(const v1::FsChange&)>;
  Watcher(KernelLink* link, OnChange on_change);
  ~Watcher();
  void Start();
  void Stop();

 private:
  void Run();

  KernelLink* link_;
  OnChange on_change_;
  std::thread thread_;
  std::mutex mu_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;
  uint64_t cursor_ = 0;
};

}  // namespace lattice::fuse
