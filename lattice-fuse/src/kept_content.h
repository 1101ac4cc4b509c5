// The content of small files this daemon just committed, kept by content version. A file
// written here is read back soon as often as not (sed -i and git status read what rsync and
// git clone wrote; a build reads what it generated), and the FUSE kernel module's page cache
// rarely holds it: a write that ends inside a page leaves that page to be read again. A
// version never changes once made, so what is kept for (inode, version) stays right; a read
// of any other version asks the kernel as before.
//
// Bounded: at most `max_bytes` in all (least recently used dropped first), one version per
// inode, and no file over `max_file_bytes`. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lattice/common/lru_cache.h"

namespace lattice::fuse {

class KeptContent {
 public:
  KeptContent(size_t max_bytes, size_t max_file_bytes)
      : kept_(max_bytes), max_file_bytes_(max_file_bytes) {}

  size_t max_file_bytes() const { return max_file_bytes_; }
  // Keeps `data` as version `version` of inode `ino` (in place of any other version of it).
  void Put(uint64_t ino, const std::string& version, std::string data);
  // Version `version` of `ino`, when kept.
  std::shared_ptr<const std::string> Find(uint64_t ino, const std::string& version);
  // Drops what is kept of `ino`: another client changed it, so its kept version is old.
  void Forget(uint64_t ino) { kept_.Erase(ino); }
  size_t bytes() const { return kept_.weight(); }

 private:
  struct Version {
    std::string id;
    std::string data;
  };

  LruCache<uint64_t, Version> kept_;  // weighed in bytes of content
  const size_t max_file_bytes_;
};

}  // namespace lattice::fuse
