// FileSystem: extended attributes (the user namespace only).
#include "src/filesystem.h"

#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "src/attrs.h"
#include "src/filesystem_tuning.h"

namespace lattice::fuse {

namespace {

bool IsUserXattr(const char* name) { return std::strncmp(name, "user.", 5) == 0; }

// getxattr(2) and listxattr(2) replies: the length when asked with no buffer, ERANGE when
// `bytes` do not fit the caller's `size`, else the bytes.
void ReplyXattrBytes(fuse_req_t req, const std::string& bytes, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, bytes.size());
  } else if (bytes.size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, bytes.data(), bytes.size());
  }
}

}  // namespace

using v1::Fs;

void FileSystem::SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                          size_t size, int flags) {
  if (!IsUserXattr(name)) {
    fuse_reply_err(req, EOPNOTSUPP);
    return;
  }
  if (std::strlen(name) > limits::kMaxFsXattrNameBytes) {
    fuse_reply_err(req, ERANGE);
    return;
  }
  if (size > limits::kMaxFsXattrValueBytes) {
    fuse_reply_err(req, E2BIG);
    return;
  }
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_name(name);
  request.set_value(std::string(value, size));
  request.set_flags(static_cast<uint32_t>(flags) & (XATTR_CREATE | XATTR_REPLACE));
  request.set_durability(kApplied);
  v1::FsChangeReply reply;
  absl::Status status;
  {
    const ExactAttrsChange change(*this);
    status = link_->Call("SetXattr", &Fs::Stub::SetXattr, request, &reply);
  }
  ForgetDir(ino);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_err(req, 0);
}

void FileSystem::GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  if (!IsUserXattr(name)) {
    // security.capability is asked before every write: answered here, never sent.
    fuse_reply_err(req, ENODATA);
    return;
  }
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_name(name);
  v1::FsXattrResponse reply;
  absl::Status status = link_->Call("GetXattr", &Fs::Stub::GetXattr, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  ReplyXattrBytes(req, reply.value(), size);
}

void FileSystem::ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  v1::FsXattrResponse reply;
  absl::Status status = link_->Call("ListXattr", &Fs::Stub::ListXattr, request, &reply);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  std::string names;
  for (const std::string& name : reply.names()) {
    names += name;
    names.push_back('\0');
  }
  ReplyXattrBytes(req, names, size);
}

void FileSystem::RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  if (!IsUserXattr(name)) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  v1::FsXattrRequest request;
  request.set_store(link_->store());
  request.set_ino(ino);
  request.set_name(name);
  request.set_durability(kApplied);
  v1::FsChangeReply reply;
  absl::Status status;
  {
    const ExactAttrsChange change(*this);
    status = link_->Call("RemoveXattr", &Fs::Stub::RemoveXattr, request, &reply);
  }
  ForgetDir(ino);
  if (!status.ok()) {
    ReplyError(req, status);
    return;
  }
  fuse_reply_err(req, 0);
}

}  // namespace lattice::fuse
