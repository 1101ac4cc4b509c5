// How a client proves who it is to the kernel: a service token when it has one, else the
// operator's admin cookie, which the kernel writes beside its socket at every start.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace lattice::client {

// The trimmed content of the admin cookie at `cookie_path`. UNAUTHENTICATED, with a message
// naming the path and the reason, when it is missing, unreadable or empty.
absl::StatusOr<std::string> ReadAdminCookie(const std::string& cookie_path);

// The trimmed token in the file at `path` (--token-file: unlike --token, not shown by ps).
// INVALID_ARGUMENT naming the path and the reason when it cannot be read or is empty; a
// FIFO, device or file over limits::kMaxSecretFileBytes is refused without blocking.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// The secret to send as "authorization: Bearer <secret>": `token` when not empty, else the
// admin cookie beside `socket_path`. INVALID_ARGUMENT when the secret holds characters that
// cannot travel in a gRPC header.
absl::StatusOr<std::string> ResolveSecret(const std::string& token, const std::string& socket_path);

// $LATTICE_TOKEN, else the trimmed file $CREDENTIALS_DIRECTORY/token (a daemon run by a
// systemd unit with LoadCredential=token:...), else an empty string. Daemons started by the
// ServiceManager find their scoped token in $LATTICE_TOKEN.
std::string TokenFromEnvironment();

}  // namespace lattice::client
