#include "rpc/fs_layout_cache.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace lattice::kernel {
namespace {

constexpr size_t kHashBytes = 32;
constexpr uint32_t kHole = std::numeric_limits<uint32_t>::max();

}  // namespace

FsVersionLayout::FsVersionLayout(const v1::FsVersion& version)
    : id_(version.id()), size_(version.size()) {
  ends_.reserve(version.extents_size());
  slots_.reserve(version.extents_size());
  uint64_t at = 0;
  for (const auto& extent : version.extents()) {
    at += extent.length();
    ends_.push_back(at);
    // Hashes are checked by the planner before a version is written; a malformed one (not
    // 32 bytes) reads as a missing chunk rather than as another chunk's bytes.
    if (extent.hash().empty()) {
      slots_.push_back(kHole);
    } else {
      slots_.push_back(static_cast<uint32_t>(hashes_.size() / kHashBytes));
      if (extent.hash().size() == kHashBytes) {
        hashes_ += extent.hash();
      } else {
        hashes_.append(kHashBytes, '\xff');
      }
    }
  }
}

size_t FsVersionLayout::ExtentAt(uint64_t offset) const {
  return static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), offset) - ends_.begin());
}

std::string_view FsVersionLayout::Hash(size_t i) const {
  if (slots_[i] == kHole) return {};
  return std::string_view(hashes_).substr(size_t{slots_[i]} * kHashBytes, kHashBytes);
}

size_t FsVersionLayout::bytes() const {
  return sizeof(*this) + id_.size() + ends_.capacity() * sizeof(uint64_t) +
         slots_.capacity() * sizeof(uint32_t) + hashes_.capacity();
}

FsLayoutCache& FsLayoutCache::Shared() {
  static FsLayoutCache* cache = new FsLayoutCache(64u * 1024 * 1024);
  return *cache;
}

FsLayoutCache::Key FsLayoutCache::KeyOf(const void* owner, uint64_t ino,
                                        std::string_view version_id) {
  Key key(sizeof owner + sizeof ino, '\0');
  std::memcpy(key.data(), &owner, sizeof owner);
  std::memcpy(key.data() + sizeof owner, &ino, sizeof ino);
  key.append(version_id);
  return key;
}

std::shared_ptr<const FsVersionLayout> FsLayoutCache::Find(const void* owner, uint64_t ino,
                                                           std::string_view version_id) {
  Key key = KeyOf(owner, ino, version_id);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  ages_.splice(ages_.begin(), ages_, it->second.age);
  return it->second.layout;
}

std::shared_ptr<const FsVersionLayout> FsLayoutCache::Add(const void* owner, uint64_t ino,
                                                          const v1::FsVersion& version) {
  Key key = KeyOf(owner, ino, version.id());
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      ages_.splice(ages_.begin(), ages_, it->second.age);
      return it->second.layout;
    }
  }
  auto layout = std::make_shared<const FsVersionLayout>(version);
  size_t size = layout->bytes();
  if (size > max_bytes_) return layout;  // served, not kept
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    ages_.splice(ages_.begin(), ages_, it->second.age);
    return it->second.layout;
  }
  ages_.push_front(key);
  entries_.emplace(std::move(key), Entry{layout, ages_.begin()});
  bytes_ += size;
  while (bytes_ > max_bytes_ && !ages_.empty()) {
    auto oldest = entries_.find(ages_.back());
    bytes_ -= oldest->second.layout->bytes();
    entries_.erase(oldest);
    ages_.pop_back();
  }
  return layout;
}

size_t FsLayoutCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace lattice::kernel
