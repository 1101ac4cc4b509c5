// Runs posted work in the order posted, on a thread of its own that starts with the first
// post. The store's write pipeline hands it the completion of a group's calls while the
// next group is built and committed, so that sending replies does not hold them back.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace lattice::kernel {

// Thread-safe. The destructor runs everything posted before it, then joins the thread.
class SerialExecutor {
 public:
  SerialExecutor() = default;
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;
  ~SerialExecutor();

  void Post(std::function<void()> work);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lattice::kernel
