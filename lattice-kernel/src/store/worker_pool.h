// Runs posted work on a few threads of its own, started as work arrives: for blocking work
// (disk writes of uploaded chunks) that must not run on a gRPC callback thread, which also
// reads the connections. Unlike SerialExecutor, work may run concurrently and in any order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lattice::kernel {

// Thread-safe. The destructor runs everything posted before it, then joins the threads.
class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  void Post(std::function<void()> work);

 private:
  void Run();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t idle_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace lattice::kernel
