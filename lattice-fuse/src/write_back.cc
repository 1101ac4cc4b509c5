#include "src/write_back.h"

#include <utility>

namespace lattice::fuse {

WriteBack::WriteBack(CommitFn commit, int threads, size_t max_queued, size_t max_batch,
                     std::chrono::milliseconds linger)
    : commit_(std::move(commit)),
      max_queued_(max_queued == 0 ? 1 : max_queued),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      linger_(linger) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WriteBack::~WriteBack() { Stop(); }

bool WriteBack::Queue(uint64_t ino) {
  std::unique_lock lock(mu_);
  settled_.wait(lock, [this] { return stopping_ || queue_.size() < max_queued_; });
  if (stopping_) return false;
  if (queued_.contains(ino)) return true;
  uint64_t ticket = ++next_ticket_;
  queue_.push_back(Entry{ino, ticket, std::chrono::steady_clock::now()});
  queued_[ino] = ticket;
  outstanding_.insert(ticket);
  wake_.notify_one();
  return true;
}

void WriteBack::Drain() {
  std::unique_lock lock(mu_);
  uint64_t upto = next_ticket_;
  draining_++;
  wake_.notify_all();  // a lingering thread commits what waits now
  settled_.wait(lock, [this, upto] {
    return outstanding_.empty() || *outstanding_.begin() > upto;
  });
  draining_--;
}

bool WriteBack::Pending(uint64_t ino) const {
  std::lock_guard lock(mu_);
  return queued_.contains(ino) || running_.contains(ino);
}

bool WriteBack::Idle() const {
  std::lock_guard lock(mu_);
  return outstanding_.empty();
}

void WriteBack::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  settled_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void WriteBack::Run() {
  std::vector<Entry> batch;
  std::vector<uint64_t> inodes;
  for (;;) {
    batch.clear();
    inodes.clear();
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to commit
      if (linger_.count() > 0) {
        wake_.wait_until(lock, queue_.front().queued_at + linger_, [this] {
          return stopping_ || draining_ > 0 || queue_.empty() || queue_.size() >= max_batch_;
        });
        if (queue_.empty()) continue;  // another thread took them
      }
      while (!queue_.empty() && batch.size() < max_batch_) {
        Entry entry = queue_.front();
        queue_.pop_front();
        queued_.erase(entry.ino);
        running_.insert(entry.ino);
        batch.push_back(entry);
        inodes.push_back(entry.ino);
      }
      settled_.notify_all();  // room for a waiting Queue
    }
    commit_(inodes);
    {
      std::lock_guard lock(mu_);
      for (const Entry& entry : batch) {
        running_.erase(running_.find(entry.ino));
        outstanding_.erase(entry.ticket);
      }
    }
    settled_.notify_all();
  }
}

}  // namespace lattice::fuse
