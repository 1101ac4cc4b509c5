#include "src/entry_inodes.h"

namespace lattice::fuse {

std::string EntryInodes::Key(uint64_t parent, std::string_view name) {
  std::string key(sizeof parent, '\0');
  for (size_t i = 0; i < sizeof parent; ++i) key[i] = static_cast<char>(parent >> (8 * i));
  key.append(name);
  return key;
}

void EntryInodes::Note(uint64_t parent, std::string_view name, uint64_t ino, bool dir) {
  std::lock_guard lock(mu_);
  if (inodes_.size() >= max_names_) inodes_.clear();
  inodes_[Key(parent, name)] = Held{ino, dir};
}

std::optional<uint64_t> EntryInodes::Take(uint64_t parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(Key(parent, name));
  if (it == inodes_.end()) return std::nullopt;
  uint64_t ino = it->second.ino;
  inodes_.erase(it);
  return ino;
}

std::optional<uint64_t> EntryInodes::FileAt(uint64_t parent, std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(Key(parent, name));
  if (it == inodes_.end() || it->second.dir) return std::nullopt;
  return it->second.ino;
}

void EntryInodes::Forget(uint64_t parent, std::string_view name) {
  std::lock_guard lock(mu_);
  inodes_.erase(Key(parent, name));
}

void EntryInodes::NoteRenamed(uint64_t parent, std::string_view name, uint64_t new_parent,
                              std::string_view new_name, bool exchange) {
  std::string from = Key(parent, name);
  std::string to = Key(new_parent, new_name);
  if (from == to) return;
  std::lock_guard lock(mu_);
  auto source = inodes_.extract(from);
  auto target = inodes_.extract(to);
  if (source) {
    source.key() = to;
    inodes_.insert(std::move(source));
  }
  if (exchange && target) {
    target.key() = from;
    inodes_.insert(std::move(target));
  }
}

size_t EntryInodes::size() const {
  std::lock_guard lock(mu_);
  return inodes_.size();
}

}  // namespace lattice::fuse
