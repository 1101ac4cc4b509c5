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
  return layouts_.Find(KeyOf(owner, ino, version_id));
}

std::shared_ptr<const FsVersionLayout> FsLayoutCache::Add(const void* owner, uint64_t ino,
                                                          const v1::FsVersion& version) {
  Key key = KeyOf(owner, ino, version.id());
  if (auto kept = layouts_.Find(key)) return kept;  // parsed by a read that raced this one
  auto layout = std::make_shared<const FsVersionLayout>(version);
  return layouts_.PutIfAbsent(key, layout, layout->bytes());
}

}  // namespace lattice::kernel
