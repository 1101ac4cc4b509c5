#include "src/dir_attrs.h"

#include <sys/stat.h>

#include "src/attrs.h"

namespace lattice::fuse {

std::optional<v1::FsStat> DirAttrCache::Find(uint64_t ino, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.until) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.stat;
}

uint64_t DirAttrCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void DirAttrCache::Put(const v1::FsStat& stat, uint64_t generation, Clock::time_point now) {
  if (!S_ISDIR(stat.attr().mode()) || keep_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[stat.ino()] = Entry{stat, now + keep_};
}

void DirAttrCache::NoteCreated(uint64_t parent, const v1::FsStat& child) {
  std::lock_guard lock(mu_);
  ++generation_;  // a fetch of `parent` under way may predate the create
  Entry* entry = StampLocked(parent, child.attr().ctime());
  if (entry != nullptr && S_ISDIR(child.attr().mode())) {
    entry->stat.set_nlink(entry->stat.nlink() + 1);
  }
}

void DirAttrCache::NoteRenamed(uint64_t parent, uint64_t new_parent, const v1::FsTime& stamp) {
  std::lock_guard lock(mu_);
  ++generation_;  // a fetch under way may predate the rename
  for (uint64_t dir : {parent, new_parent}) StampLocked(dir, stamp);
}

void DirAttrCache::NoteRemoved(uint64_t parent, const v1::FsTime& time) {
  std::lock_guard lock(mu_);
  ++generation_;
  StampLocked(parent, time);
}

void DirAttrCache::NoteDirRemoved(uint64_t parent, uint64_t dir, const v1::FsTime& stamp) {
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.erase(dir);
  Entry* entry = StampLocked(parent, stamp);
  if (entry != nullptr && entry->stat.nlink() > 2) entry->stat.set_nlink(entry->stat.nlink() - 1);
}

DirAttrCache::Entry* DirAttrCache::StampLocked(uint64_t dir, const v1::FsTime& stamp) {
  auto it = entries_.find(dir);
  if (it == entries_.end()) return nullptr;
  v1::FsAttr* attr = it->second.stat.mutable_attr();
  // Changes answered out of order: the latest stamp is the one the kernel keeps.
  KeepLatest(attr->mutable_mtime(), stamp);
  KeepLatest(attr->mutable_ctime(), stamp);
  return &it->second;
}

void DirAttrCache::Forget(uint64_t ino) {
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.erase(ino);
}

void DirAttrCache::ForgetAll() {
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.clear();
}

}  // namespace lattice::fuse
