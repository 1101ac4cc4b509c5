// The node's Ed25519 identity, kept in <data>/identity.key with mode 0600.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "lattice/common/crypto.h"

namespace lattice::kernel {

// Loads the key at `path`, or creates one there when the file does not exist.
// Refuses a key file readable by group or others, or one that is malformed.
absl::StatusOr<KeyPair> LoadOrCreateIdentity(const std::string& path);

}  // namespace lattice::kernel
