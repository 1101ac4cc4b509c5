// What keeps a daemon started by the kernel out of the kernel's files (the admin cookie, the
// identity key, every store): it runs as the kernel's user, so file modes alone do not.
// With Landlock (Linux 5.13+) the daemon may read and execute the system (/usr, /etc, ...),
// use /dev, execute its own binary and reach the kernel's socket, and nothing else of the
// file system. Without Landlock, a kernel running as root starts daemons as an unprivileged
// user ("lattice-svc", else "nobody") with the socket's group; otherwise no confinement is
// possible and the kernel says so in its log. Every daemon also gets no_new_privs.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace lattice::services {

// The confinement of one daemon, prepared in the kernel before fork, applied in the child.
// Owns the Landlock ruleset descriptor. Not thread-safe; one per Spawn.
class Confinement {
 public:
  // Prepares the rules for `binary` talking to the kernel at `socket`. Fails only when the
  // system refuses a call it claims to support.
  static absl::StatusOr<Confinement> Prepare(const std::string& binary, const std::string& socket);
  Confinement(Confinement&& other) noexcept;
  Confinement& operator=(Confinement&&) = delete;
  Confinement(const Confinement&) = delete;
  ~Confinement();

  // In the child between fork and exec: async-signal-safe calls only. Returns 0 or an errno.
  int ApplyInChild() const;

  // For the log: "Landlock ABI 7: ...", "runs as nobody (uid 65534) ...", or "none: ...".
  const std::string& description() const { return description_; }

 private:
  Confinement() = default;

  int ruleset_fd_ = -1;
  bool drop_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  gid_t socket_gid_ = 0;
  std::string description_;
};

// The Landlock ABI version the running kernel supports, 0 when it has none.
int LandlockAbi();

}  // namespace lattice::services
