#include "src/kept_content.h"

namespace lattice::fuse {

void KeptContent::Put(uint64_t ino, const std::string& version, std::string data) {
  if (version.empty() || data.size() > max_file_bytes_) {
    kept_.Erase(ino);
    return;
  }
  size_t bytes = data.size();
  kept_.Put(ino, std::make_shared<const Version>(Version{version, std::move(data)}), bytes);
}

std::shared_ptr<const std::string> KeptContent::Find(uint64_t ino, const std::string& version) {
  auto kept = kept_.Find(ino);
  if (kept == nullptr || kept->id != version) return nullptr;
  return {kept, &kept->data};  // shares the kept version's ownership
}

}  // namespace lattice::fuse
