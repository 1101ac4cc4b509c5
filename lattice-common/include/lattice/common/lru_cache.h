// A map of immutable values bounded by their total weight (bytes, items: whatever the caller
// counts), dropping the least recently used first. Values are shared, so one found here
// stays valid for its finder after it is dropped or replaced. Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace lattice {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruCache {
 public:
  using Ptr = std::shared_ptr<const Value>;

  explicit LruCache(size_t max_weight) : max_weight_(max_weight) {}

  size_t max_weight() const { return max_weight_; }

  // The value kept under `key`, now the most recently used; null when none is.
  Ptr Find(const Key& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    ages_.splice(ages_.begin(), ages_, it->second.age);
    return it->second.value;
  }

  // Keeps `value` under `key` in place of what was there. A value heavier than the whole
  // cache is not kept (and what was there is dropped all the same).
  void Put(const Key& key, Ptr value, size_t weight) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) DropLocked(it);
    if (value == nullptr || weight > max_weight_) return;
    AddLocked(key, std::move(value), weight);
  }

  // Keeps `value` under `key` unless a value is kept there already; returns the one kept
  // (or `value` itself when it is too heavy to keep).
  Ptr PutIfAbsent(const Key& key, Ptr value, size_t weight) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      ages_.splice(ages_.begin(), ages_, it->second.age);
      return it->second.value;
    }
    if (value != nullptr && weight <= max_weight_) AddLocked(key, value, weight);
    return value;
  }

  void Erase(const Key& key) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) DropLocked(it);
  }

  void Clear() {
    std::lock_guard lock(mu_);
    entries_.clear();
    ages_.clear();
    weight_ = 0;
  }

  // The total weight kept.
  size_t weight() const {
    std::lock_guard lock(mu_);
    return weight_;
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    Ptr value;
    size_t weight;
    typename std::list<Key>::iterator age;
  };
  using Entries = std::unordered_map<Key, Entry, Hash>;

  // REQUIRES: mu_ held, `key` absent, weight <= max_weight_.
  void AddLocked(const Key& key, Ptr value, size_t weight) {
    while (weight_ + weight > max_weight_ && !ages_.empty()) {
      DropLocked(entries_.find(ages_.back()));
    }
    ages_.push_front(key);
    entries_.emplace(key, Entry{std::move(value), weight, ages_.begin()});
    weight_ += weight;
  }

  // REQUIRES: mu_ held.
  void DropLocked(typename Entries::iterator it) {
    weight_ -= it->second.weight;
    ages_.erase(it->second.age);
    entries_.erase(it);
  }

  const size_t max_weight_;
  mutable std::mutex mu_;
  Entries entries_;
  std::list<Key> ages_;  // most recently used first
  size_t weight_ = 0;
};

}  // namespace lattice
