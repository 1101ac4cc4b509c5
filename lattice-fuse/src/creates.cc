#include "src/creates.h"

#include <sys/stat.h>

#include <algorithm>

namespace lattice::fuse {
namespace {

// What Affects needs of a create in flight.
v1::FsCreateRequest WhereOf(const v1::FsCreateRequest& request) {
  v1::FsCreateRequest where;
  where.set_parent(request.parent());
  where.set_name(request.name());
  where.set_replaces(request.replaces());
  return where;
}

}  // namespace

size_t PendingCreates::Add(uint64_t ino, v1::FsCreateRequest request) {
  std::lock_guard lock(mu_);
  uint64_t seq = next_seq_++;
  waiting_.emplace(seq, PendingCreate{ino, std::move(request), seq});
  waiting_seq_[ino] = seq;
  count_.fetch_add(1, std::memory_order_release);
  return waiting_.size();
}

bool PendingCreates::Pending(uint64_t ino) const {
  std::lock_guard lock(mu_);
  return waiting_seq_.count(ino) != 0 || in_flight_.count(ino) != 0;
}

template <typename Match>
bool PendingCreates::AnyLocked(uint64_t ino, const Match& match) const {
  if (waiting_seq_.count(ino) != 0 || in_flight_.count(ino) != 0) return true;
  for (const auto& [seq, create] : waiting_) {
    if (match(create.request)) return true;
  }
  for (const auto& [made, where] : in_flight_) {
    if (match(where)) return true;
  }
  return false;
}

bool PendingCreates::Affects(uint64_t parent, const std::string& name) const {
  std::lock_guard lock(mu_);
  return AnyLocked(parent, [&](const v1::FsCreateRequest& create) {
    return create.parent() == parent && create.name() == name;
  });
}

bool PendingCreates::AffectsInode(uint64_t ino) const {
  std::lock_guard lock(mu_);
  return AnyLocked(ino, [&](const v1::FsCreateRequest& create) {
    return create.parent() == ino || create.replaces() == ino;
  });
}

bool PendingCreates::Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
                            const std::string& new_name, uint64_t replaces) {
  std::lock_guard lock(mu_);
  // Few wait at a time (the write-back sends them within its linger): a scan is enough.
  for (auto& [seq, create] : waiting_) {
    v1::FsCreateRequest& request = create.request;
    if (request.parent() != parent || request.name() != name) continue;
    if (!S_ISREG(request.mode())) return false;  // a directory moved: the kernel follows it
    if (request.replaces() != 0) return false;
    request.set_parent(new_parent);
    request.set_name(new_name);
    request.set_replaces(replaces);
    return true;
  }
  return false;
}

std::vector<PendingCreate> PendingCreates::TakeAll() {
  std::unique_lock lock(mu_);
  // A waiting create may be in a directory whose create another sender has in flight.
  changed_.wait(lock, [this] { return in_flight_.empty(); });
  std::vector<PendingCreate> taken;
  taken.reserve(waiting_.size());
  for (auto& [seq, create] : waiting_) {
    in_flight_.emplace(create.ino, WhereOf(create.request));
    taken.push_back(std::move(create));
  }
  waiting_.clear();
  waiting_seq_.clear();
  changed_.notify_all();
  return taken;
}

std::set<uint64_t> PendingCreates::WithParents(const std::vector<uint64_t>& inodes) const {
  std::set<uint64_t> all(inodes.begin(), inodes.end());
  std::vector<uint64_t> todo(inodes.begin(), inodes.end());
  while (!todo.empty()) {
    uint64_t ino = todo.back();
    todo.pop_back();
    auto seq = waiting_seq_.find(ino);
    if (seq == waiting_seq_.end()) continue;
    uint64_t parent = waiting_.at(seq->second).request.parent();
    bool pending = waiting_seq_.count(parent) != 0 || in_flight_.count(parent) != 0;
    if (pending && all.insert(parent).second) todo.push_back(parent);
  }
  return all;
}

std::vector<PendingCreate> PendingCreates::TakeFor(const std::vector<uint64_t>& inodes) {
  std::unique_lock lock(mu_);
  std::set<uint64_t> all;
  changed_.wait(lock, [&] {
    all = WithParents(inodes);
    return std::none_of(all.begin(), all.end(),
                        [this](uint64_t ino) { return in_flight_.count(ino) != 0; });
  });
  std::vector<uint64_t> seqs;
  for (uint64_t ino : all) {
    auto it = waiting_seq_.find(ino);
    if (it == waiting_seq_.end()) continue;
    seqs.push_back(it->second);
    waiting_seq_.erase(it);
  }
  std::sort(seqs.begin(), seqs.end());  // in the order they were answered
  std::vector<PendingCreate> taken;
  taken.reserve(seqs.size());
  for (uint64_t seq : seqs) {
    auto it = waiting_.find(seq);
    in_flight_.emplace(it->second.ino, WhereOf(it->second.request));
    taken.push_back(std::move(it->second));
    waiting_.erase(it);
  }
  if (!taken.empty()) changed_.notify_all();
  return taken;
}

void PendingCreates::Done(const std::vector<uint64_t>& inodes) {
  std::lock_guard lock(mu_);
  for (uint64_t ino : inodes) {
    if (in_flight_.erase(ino) != 0) count_.fetch_sub(1, std::memory_order_release);
  }
  changed_.notify_all();
}

void PendingCreates::AwaitInFlight() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return in_flight_.empty(); });
}

}  // namespace lattice::fuse
