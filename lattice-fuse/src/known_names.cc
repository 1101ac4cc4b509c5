#include "src/known_names.h"

#include <sys/stat.h>

#include <algorithm>

#include "lattice/common/fs_conflict_names.h"
#include "src/attrs.h"

namespace lattice::fuse {

KnownNames::Answer KnownNames::Find(uint64_t parent, const std::string& name,
                                    Clock::time_point now) {
  if (name == "." || name == ".." || name.find(kFsConflictMarker) != std::string::npos) {
    return Answer::kAsk;
  }
  std::lock_guard lock(mu_);
  auto it = dirs_.find(parent);
  if (it == dirs_.end() || it->second.names.contains(name)) return Answer::kAsk;
  return now < it->second.until ? Answer::kAbsent : Answer::kVerify;
}

std::optional<KnownNames::Entry> KnownNames::Present(uint64_t parent, const std::string& name,
                                                     Clock::time_point now) {
  if (name.find(kFsConflictMarker) != std::string::npos) return std::nullopt;
  std::lock_guard lock(mu_);
  auto dir = dirs_.find(parent);
  if (dir == dirs_.end() || now >= dir->second.until) return std::nullopt;
  auto it = dir->second.names.find(name);
  if (it == dir->second.names.end() || it->second.ino == 0) return std::nullopt;
  return it->second;
}

bool KnownNames::Verify(const v1::FsStat& dir, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir.ino());
  if (it == dirs_.end()) return false;
  if (!SameTime(dir.attr().mtime(), it->second.mtime) ||
      !SameTime(dir.attr().ctime(), it->second.ctime)) {
    names_ -= it->second.names.size();
    dirs_.erase(it);
    return false;
  }
  it->second.until = now + trust_;
  return true;
}

void KnownNames::NoteCreated(uint64_t parent, const std::string& name, const v1::FsStat& child,
                             Clock::time_point now) {
  if (trust_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  // The kernel stamps the parent's mtime and ctime with the new inode's ctime.
  // A created entry has the id of its inode.
  const Entry entry{child.ino(), child.attr().mode() & S_IFMT, 2 * child.ino()};
  if (auto it = dirs_.find(parent); it != dirs_.end()) {
    AddName(it, name, entry, child.attr().ctime());
  }
  if (!S_ISDIR(child.attr().mode())) return;
  AddDir(child, {}, now);
}

void KnownNames::NoteAttrsSet(const v1::FsStat& dir) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir.ino());
  if (it == dirs_.end()) return;
  // Set, not kept latest: utimes may move the mtime back.
  it->second.mtime = dir.attr().mtime();
  it->second.ctime = dir.attr().ctime();
}

void KnownNames::NoteRenamed(uint64_t parent, const std::string& name, uint64_t new_parent,
                             const std::string& new_name, bool exchange,
                             const v1::FsTime& stamp) {
  std::lock_guard lock(mu_);
  // The entry moves with its name: what each name lists is known only if its source was.
  Entry moved;
  Entry replaced;
  if (auto it = dirs_.find(parent); it != dirs_.end()) {
    if (auto named = it->second.names.find(name); named != it->second.names.end()) {
      moved = named->second;
      if (!exchange) {
        it->second.names.erase(named);
        --names_;
      }
    }
  }
  if (auto it = dirs_.find(new_parent); it != dirs_.end()) {
    if (auto named = it->second.names.find(new_name); named != it->second.names.end()) {
      replaced = named->second;
    }
    AddName(it, new_name, moved, stamp);
  }
  if (auto it = dirs_.find(parent); it != dirs_.end()) {
    if (exchange && it->second.names.insert_or_assign(name, replaced).second) ++names_;
    it->second.Stamp(stamp);
  }
}

void KnownNames::Dir::Stamp(const v1::FsTime& stamp) {
  KeepLatest(&mtime, stamp);
  KeepLatest(&ctime, stamp);
}

void KnownNames::AddName(std::unordered_map<uint64_t, Dir>::iterator dir,
                         const std::string& name, const Entry& entry, const v1::FsTime& stamp) {
  if (names_ >= kMaxNames) {
    names_ -= dir->second.names.size();
    dirs_.erase(dir);
    return;
  }
  if (dir->second.names.insert_or_assign(name, entry).second) ++names_;
  dir->second.Stamp(stamp);
}

void KnownNames::NoteListed(const v1::FsStat& dir, const std::vector<Listed>& names,
                            uint64_t forgets, Clock::time_point now) {
  if (trust_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  if (forgets_.load() != forgets || dirs_.count(dir.ino()) != 0) return;
  if (names_ + names.size() > kMaxNames) return;
  Names known;
  for (const Listed& listed : names) known.emplace(listed.name, listed.entry);
  AddDir(dir, std::move(known), now);
}

bool KnownNames::ListAfter(uint64_t dir, uint64_t offset, size_t max_names,
                           std::vector<Listed>* out) {
  out->clear();
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir);
  if (it == dirs_.end() || it->second.names.size() > max_names) return false;
  for (const auto& [name, entry] : it->second.names) {
    if (entry.offset == 0) return false;
    if (entry.offset > offset) out->push_back(Listed{name, entry});
  }
  std::sort(out->begin(), out->end(), [](const Listed& a, const Listed& b) {
    return a.entry.offset < b.entry.offset;
  });
  return true;
}

void KnownNames::AddDir(const v1::FsStat& dir, Names names, Clock::time_point now) {
  if (dirs_.size() >= kMaxDirs) {
    dirs_.clear();
    names_ = 0;
  }
  Dir& known = dirs_[dir.ino()];
  names_ -= known.names.size();
  known = Dir{std::move(names), dir.attr().mtime(), dir.attr().ctime(), now + trust_};
  names_ += known.names.size();
}

void KnownNames::Forget(uint64_t dir) {
  forgets_.fetch_add(1);
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return;
  names_ -= it->second.names.size();
  dirs_.erase(it);
}

void KnownNames::ForgetAll() {
  forgets_.fetch_add(1);
  std::lock_guard lock(mu_);
  dirs_.clear();
  names_ = 0;
}

}  // namespace lattice::fuse
