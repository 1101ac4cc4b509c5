#include "lattice/common/fs_errno.h"

#include <cerrno>
#include <string>

#include <fmt/format.h>

namespace lattice {
namespace {

struct Known {
  int err;
  std::string_view name;
  absl::StatusCode code;
};

// The errnos a file system call reports, with the gRPC code each travels under.
constexpr Known kKnown[] = {
    {EPERM, "EPERM", absl::StatusCode::kPermissionDenied},
    {ENOENT, "ENOENT", absl::StatusCode::kNotFound},
    {EIO, "EIO", absl::StatusCode::kInternal},
    {EBADF, "EBADF", absl::StatusCode::kInvalidArgument},
    {EAGAIN, "EAGAIN", absl::StatusCode::kUnavailable},
    {ENOMEM, "ENOMEM", absl::StatusCode::kResourceExhausted},
    {EACCES, "EACCES", absl::StatusCode::kPermissionDenied},
    {EBUSY, "EBUSY", absl::StatusCode::kFailedPrecondition},
    {EEXIST, "EEXIST", absl::StatusCode::kAlreadyExists},
    {EXDEV, "EXDEV", absl::StatusCode::kFailedPrecondition},
    {ENODEV, "ENODEV", absl::StatusCode::kFailedPrecondition},
    {ENOTDIR, "ENOTDIR", absl::StatusCode::kFailedPrecondition},
    {EISDIR, "EISDIR", absl::StatusCode::kFailedPrecondition},
    {EINVAL, "EINVAL", absl::StatusCode::kInvalidArgument},
    {ENFILE, "ENFILE", absl::StatusCode::kResourceExhausted},
    {EMFILE, "EMFILE", absl::StatusCode::kResourceExhausted},
    {EFBIG, "EFBIG", absl::StatusCode::kOutOfRange},
    {ENOSPC, "ENOSPC", absl::StatusCode::kResourceExhausted},
    {EROFS, "EROFS", absl::StatusCode::kFailedPrecondition},
    {EMLINK, "EMLINK", absl::StatusCode::kResourceExhausted},
    {ERANGE, "ERANGE", absl::StatusCode::kOutOfRange},
    {ENAMETOOLONG, "ENAMETOOLONG", absl::StatusCode::kInvalidArgument},
    {ENOSYS, "ENOSYS", absl::StatusCode::kUnimplemented},
    {ENOTEMPTY, "ENOTEMPTY", absl::StatusCode::kFailedPrecondition},
    {ELOOP, "ELOOP", absl::StatusCode::kFailedPrecondition},
    {ENODATA, "ENODATA", absl::StatusCode::kNotFound},
    {EOVERFLOW, "EOVERFLOW", absl::StatusCode::kOutOfRange},
    {EOPNOTSUPP, "EOPNOTSUPP", absl::StatusCode::kUnimplemented},
    {ESTALE, "ESTALE", absl::StatusCode::kNotFound},
    {EDQUOT, "EDQUOT", absl::StatusCode::kResourceExhausted},
    {ETIMEDOUT, "ETIMEDOUT", absl::StatusCode::kDeadlineExceeded},
};

constexpr std::string_view kTag = " [errno=";

}  // namespace

std::string_view FsErrnoName(int err) {
  for (const auto& known : kKnown) {
    if (known.err == err) return known.name;
  }
  return {};
}

int FsErrnoFromName(std::string_view name) {
  for (const auto& known : kKnown) {
    if (known.name == name) return known.err;
  }
  return 0;
}

absl::Status FsError(int err, std::string_view message) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  std::string_view name = "EIO";
  for (const auto& known : kKnown) {
    if (known.err == err) {
      code = known.code;
      name = known.name;
      break;
    }
  }
  return absl::Status(code, fmt::format("{}{}{}]", message, kTag, name));
}

int FsErrnoOf(int grpc_code, std::string_view message) {
  if (grpc_code == 0) return 0;
  if (size_t at = message.rfind(kTag); at != std::string_view::npos) {
    std::string_view rest = message.substr(at + kTag.size());
    if (size_t end = rest.find(']'); end != std::string_view::npos) {
      if (int err = FsErrnoFromName(rest.substr(0, end)); err != 0) return err;
    }
  }
  switch (static_cast<absl::StatusCode>(grpc_code)) {
    case absl::StatusCode::kNotFound: return ENOENT;
    case absl::StatusCode::kAlreadyExists: return EEXIST;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated: return EACCES;
    case absl::StatusCode::kInvalidArgument: return EINVAL;
    case absl::StatusCode::kResourceExhausted: return ENOSPC;
    case absl::StatusCode::kOutOfRange: return EFBIG;
    case absl::StatusCode::kUnimplemented: return EOPNOTSUPP;
    default: return EIO;
  }
}

int FsErrnoOf(const absl::Status& status) {
  auto message = status.message();
  return FsErrnoOf(static_cast<int>(status.code()), std::string_view(message.data(), message.size()));
}

}  // namespace lattice
