// The inode each name the FUSE kernel module holds was last answered with by this daemon (a
// lookup, a create, a link, a listing with attributes, followed through this daemon's
// renames). An unlink answered here and sent later (removals.h) names that inode, and the
// kernel removes the name only while it still names it (Fs.Remove's `ino`): another client
// of the store may put a new file under the name before the batch is sent, and that file
// must not be removed in place of the one unlinked here.
//
// Bounded: past `max_names` it starts again empty. A name not held here is unlinked with a
// call of its own, at once (correct, only slower).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lattice::fuse {

class EntryInodes {
 public:
  explicit EntryInodes(size_t max_names) : max_names_(max_names) {}

  // `dir`: the inode is a directory.
  void Note(uint64_t parent, std::string_view name, uint64_t ino, bool dir);
  // The inode `name` was answered with, which is forgotten (the name is being unlinked).
  std::optional<uint64_t> Take(uint64_t parent, std::string_view name);
  // The inode `name` was answered with when it is no directory (what a rename may replace).
  std::optional<uint64_t> FileAt(uint64_t parent, std::string_view name) const;
  void Forget(uint64_t parent, std::string_view name);
  // A rename made through this daemon: the inode goes with its name (both swap places on
  // an exchange); a replaced name's inode is forgotten.
  void NoteRenamed(uint64_t parent, std::string_view name, uint64_t new_parent,
                   std::string_view new_name, bool exchange);
  size_t size() const;

 private:
  static std::string Key(uint64_t parent, std::string_view name);

  const size_t max_names_;
  mutable std::mutex mu_;
  struct Held {
    uint64_t ino = 0;
    bool dir = false;
  };
  std::unordered_map<std::string, Held> inodes_;
};

}  // namespace lattice::fuse
