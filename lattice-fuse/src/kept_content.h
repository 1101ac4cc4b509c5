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
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lattice::fuse {

class KeptContent {
 public:
  KeptContent(size_t max_bytes, size_t max_file_bytes)
      : max_bytes_(max_bytes), max_file_bytes_(max_file_bytes) {}

  size_t max_file_bytes() const { return max_file_bytes_; }
  // Keeps `data` as version `version` of inode `ino` (in place of any other version of it).
  void Put(uint64_t ino, const std::string& version, std::string data);
  // Version `version` of `ino`, when kept.
  std::shared_ptr<const std::string> Find(uint64_t ino, const std::string& version);
  void Forget(uint64_t ino);
  size_t bytes() const;

 private:
  struct Kept {
    std::string version;
    std::shared_ptr<const std::string> data;
    std::list<uint64_t>::iterator age;
  };
  // REQUIRES: mu_ held.
  void DropLocked(std::unordered_map<uint64_t, Kept>::iterator it);

  const size_t max_bytes_;
  const size_t max_file_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Kept> kept_;
  std::list<uint64_t> ages_;  // most recently used first
  size_t bytes_ = 0;
};

}  // namespace lattice::fuse
