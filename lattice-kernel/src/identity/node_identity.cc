#include "lattice/common/status.h"
#include "identity/node_identity.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include "lattice/common/files.h"
#include "lattice/common/limits.h"

namespace lattice::kernel {

absl::StatusOr<KeyPair> LoadOrCreateIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus(errno, "stat " + path);
    KeyPair key = GenerateKeyPair();
    if (auto s = WriteFileAtomic(path, key.secret_key, 0600); !s.ok()) return s;
    return key;
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(fmt::format(
        "identity key {} has mode {:o}; it must be readable by its owner only (chmod 600)", path,
        st.st_mode & 0777));
  }
  auto contents = ReadFileBounded(path, limits::kMaxSecretFileBytes, Symlinks::kRefuse);
  if (!contents.ok()) return contents.status();
  KeyPair key;
  if (!KeyPairFromSecret(*contents, &key)) {
    return absl::DataLossError(fmt::format("identity key {} is malformed ({} bytes)", path,
                                           contents->size()));
  }
  return key;
}

}  // namespace lattice::kernel
