#include "src/kept_content.h"

namespace lattice::fuse {

void KeptContent::Put(uint64_t ino, const std::string& version, std::string data) {
  std::lock_guard lock(mu_);
  if (auto it = kept_.find(ino); it != kept_.end()) DropLocked(it);
  if (version.empty() || data.size() > max_file_bytes_ || data.size() > max_bytes_) return;
  while (bytes_ + data.size() > max_bytes_ && !ages_.empty()) DropLocked(kept_.find(ages_.back()));
  bytes_ += data.size();
  ages_.push_front(ino);
  kept_[ino] = Kept{version, std::make_shared<const std::string>(std::move(data)), ages_.begin()};
}

std::shared_ptr<const std::string> KeptContent::Find(uint64_t ino, const std::string& version) {
  std::lock_guard lock(mu_);
  auto it = kept_.find(ino);
  if (it == kept_.end() || it->second.version != version) return nullptr;
  ages_.splice(ages_.begin(), ages_, it->second.age);
  return it->second.data;
}

void KeptContent::Forget(uint64_t ino) {
  std::lock_guard lock(mu_);
  if (auto it = kept_.find(ino); it != kept_.end()) DropLocked(it);
}

size_t KeptContent::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void KeptContent::DropLocked(std::unordered_map<uint64_t, Kept>::iterator it) {
  bytes_ -= it->second.data->size();
  ages_.erase(it->second.age);
  kept_.erase(it);
}

}  // namespace lattice::fuse
