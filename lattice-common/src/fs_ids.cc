#include "lattice/common/fs_ids.h"

#include <string>

#include "lattice/common/crypto.h"

namespace lattice {

uint64_t FsIdFromDigest(std::string_view digest) {
  uint64_t id = 0;
  for (int i = 7; i >= 0; --i) id = (id << 8) | static_cast<uint8_t>(digest[static_cast<size_t>(i)]);
  id &= ~(1ull << 63);
  if (id < 16) id += 16;
  return id;
}

uint64_t FsMintedId(std::string_view author, std::string_view nonce) {
  std::string input = "lattice/fs/minted/v1";
  input.append(author);
  input.append(nonce);
  return FsIdFromDigest(Blake2b256(input));
}

}  // namespace lattice
