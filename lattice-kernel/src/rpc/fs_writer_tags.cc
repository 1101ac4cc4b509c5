#include "rpc/fs_writer_tags.h"

#include <sodium.h>

#include <array>
#include <cstring>

#include "lattice/common/crypto.h"

namespace lattice::kernel {

uint64_t FsWriterTagOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kFsWriterMetadata);
  if (it == metadata.end()) return 0;
  return ParseFsWriterTag(std::string_view(it->second.data(), it->second.size()));
}

uint64_t FsWriterTags::Key(std::string_view payload) {
  // Keyed: a client cannot make its payload collide with another's on purpose to hide its
  // changes from that client's watch.
  static const auto key = [] {
    InitCrypto();
    std::array<unsigned char, crypto_shorthash_KEYBYTES> k{};
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                   key.data());
  uint64_t value = 0;
  std::memcpy(&value, out, sizeof value);
  return value;
}

void FsWriterTags::Note(std::string_view payload, uint64_t tag) {
  if (tag == 0) return;
  uint64_t key = Key(payload);
  std::lock_guard lock(mu_);
  if (tags_.insert_or_assign(key, tag).second) order_.push_back(key);
  while (order_.size() > kKept) {
    tags_.erase(order_.front());
    order_.pop_front();
  }
}

uint64_t FsWriterTags::Find(std::string_view payload) const {
  uint64_t key = Key(payload);
  std::lock_guard lock(mu_);
  auto it = tags_.find(key);
  return it == tags_.end() ? 0 : it->second;
}

}  // namespace lattice::kernel
