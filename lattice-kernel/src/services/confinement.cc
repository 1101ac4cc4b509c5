#include "services/confinement.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string_view>

#include "lattice/common/files.h"

namespace lattice::services {
namespace {

// The system's <linux/landlock.h> may predate the running kernel: the ruleset attribute grew
// (handled_access_net in ABI 4, scoped in ABI 6) and so did the rights. These are the
// kernel's own values (include/uapi/linux/landlock.h), used only when its ABI says so.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
constexpr uint64_t kAccessFsV1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kAccessFsRefer = 1ULL << 13;     // ABI 2
constexpr uint64_t kAccessFsTruncate = 1ULL << 14;  // ABI 3
constexpr uint64_t kAccessFsIoctlDev = 1ULL << 15;  // ABI 5
constexpr uint64_t kScopeSignal = 1ULL << 1;        // ABI 6: no signals to the kernel

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kReadExecute = kRead | LANDLOCK_ACCESS_FS_EXECUTE;
// What Landlock lets a rule on a file (not a directory) grant.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | kAccessFsTruncate | kAccessFsIoctlDev;

// The system a daemon needs to run: its libraries, configuration (resolver, time zones,
// certificates) and what the C library and gRPC read in /proc and /sys.
constexpr std::string_view kSystemDirs[] = {"/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin",
                                            "/etc", "/opt", "/proc", "/sys"};

int CreateRuleset(const RulesetAttr* attr, size_t size, uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}

// Adds a rule granting `access` beneath `path` (or on the file `path`); a path that does not
// exist is skipped.
absl::Status AllowPath(int ruleset_fd, const std::string& path, uint64_t access) {
  int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? absl::OkStatus() : ErrnoStatus(errno, "open " + path);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) access &= kFileRights;
  landlock_path_beneath_attr rule{};
  rule.allowed_access = access;
  rule.parent_fd = fd;
  long rc = ::syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "landlock_add_rule " + path);
  return absl::OkStatus();
}

}  // namespace

int LandlockAbi() {
  int abi = CreateRuleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : abi;
}

absl::StatusOr<Confinement> Confinement::Prepare(const std::string& binary,
                                                 const std::string& socket) {
  Confinement c;
  int abi = LandlockAbi();
  if (abi > 0) {
    uint64_t handled = kAccessFsV1;
    if (abi >= 2) handled |= kAccessFsRefer;
    if (abi >= 3) handled |= kAccessFsTruncate;
    if (abi >= 5) handled |= kAccessFsIoctlDev;
    RulesetAttr attr{handled, 0, abi >= 6 ? kScopeSignal : 0};
    size_t size = abi >= 6 ? sizeof attr : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
    c.ruleset_fd_ = CreateRuleset(&attr, size, 0);
    if (c.ruleset_fd_ < 0) return ErrnoStatus(errno, "landlock_create_ruleset");
    for (std::string_view dir : kSystemDirs) {
      if (auto s = AllowPath(c.ruleset_fd_, std::string(dir), kReadExecute & handled); !s.ok()) return s;
    }
    uint64_t devices = kRead | LANDLOCK_ACCESS_FS_WRITE_FILE | kAccessFsIoctlDev | kAccessFsTruncate;
    if (auto s = AllowPath(c.ruleset_fd_, "/dev", devices & handled); !s.ok()) return s;
    if (auto s = AllowPath(c.ruleset_fd_, binary, kReadExecute & handled); !s.ok()) return s;
    // Connecting to a Unix socket is not an access Landlock governs today; the rule names the
    // one file of the kernel's a daemon may use, should a later ABI govern it.
    uint64_t socket_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE;
    if (auto s = AllowPath(c.ruleset_fd_, socket, socket_access); !s.ok()) return s;
    c.description_ = fmt::format(
        "Landlock ABI {}: the daemon reads the system, runs its binary and reaches the kernel's "
        "socket; none of the kernel's other files",
        abi);
    return c;
  }
  if (::geteuid() == 0) {
    const passwd* user = ::getpwnam("lattice-svc");
    if (user == nullptr) user = ::getpwnam("nobody");
    if (user != nullptr && user->pw_uid != 0) {
      struct stat st {};
      c.drop_user_ = true;
      c.uid_ = user->pw_uid;
      c.gid_ = user->pw_gid;
      c.socket_gid_ = ::stat(socket.c_str(), &st) == 0 ? st.st_gid : user->pw_gid;
      c.description_ = fmt::format(
          "no Landlock in this kernel: the daemon runs as {} (uid {}) with the socket's group "
          "(gid {}) instead of root",
          user->pw_name, c.uid_, c.socket_gid_);
      return c;
    }
  }
  c.description_ =
      "none: this kernel has no Landlock and the kernel does not run as root, so the daemon "
      "runs as the kernel's user and can read its files";
  return c;
}

Confinement::Confinement(Confinement&& other) noexcept
    : ruleset_fd_(other.ruleset_fd_),
      drop_user_(other.drop_user_),
      uid_(other.uid_),
      gid_(other.gid_),
      socket_gid_(other.socket_gid_),
      description_(std::move(other.description_)) {
  other.ruleset_fd_ = -1;
}

Confinement::~Confinement() {
  if (ruleset_fd_ >= 0) ::close(ruleset_fd_);
}

int Confinement::ApplyInChild() const {
  // Without it a set-uid binary could regain what the rules or the user change took away.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (ruleset_fd_ >= 0 && ::syscall(SYS_landlock_restrict_self, ruleset_fd_, 0) != 0) return errno;
  if (drop_user_) {
    if (::setgroups(1, &socket_gid_) != 0) return errno;
    if (::setgid(gid_) != 0) return errno;
    if (::setuid(uid_) != 0) return errno;
  }
  return 0;
}

}  // namespace lattice::services
