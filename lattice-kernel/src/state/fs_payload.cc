#include "state/fs_payload.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "lattice/common/fs_ids.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"

namespace lattice::kernel {
namespace {

// The writing intention cites the intention of every base version its writes name (as a dep
// or its prev); one write names one base, so an intention can always cite them all.
static_assert(limits::kMaxFsOpsPerIntention <= limits::kMaxDeps);

bool KnownType(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFIFO: case S_IFSOCK: case S_IFCHR:
    case S_IFBLK:
      return true;
    default:
      return false;
  }
}

absl::Status CheckVersionIds(const google::protobuf::RepeatedPtrField<std::string>& ids,
                             std::string_view what) {
  if (static_cast<size_t>(ids.size()) > kMaxFsVersionsPerOp) {
    return LimitExceeded(what, ids.size(), kMaxFsVersionsPerOp, "versions");
  }
  for (const auto& id : ids) {
    if (id.size() != kFsVersionIdBytes) {
      return absl::InvalidArgumentError(fmt::format("{} names a malformed version id", what));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTime(const v1::FsTime& t, std::string_view what) {
  if (t.nsec() >= 1'000'000'000u) {
    return absl::InvalidArgumentError(fmt::format("{} has nanoseconds above a second", what));
  }
  return absl::OkStatus();
}

// One extent: a chunk hash of 32 bytes or none (a hole), not empty; `sum` adds its length
// (the running total stays within kMaxFsFileBytes).
absl::Status CheckExtent(const v1::FsExtent& e, uint64_t* sum) {
  if (!e.hash().empty() && e.hash().size() != kHashBytes) {
    return absl::InvalidArgumentError("an extent cites a malformed chunk hash");
  }
  if (e.length() == 0) return absl::InvalidArgumentError("an extent is empty");
  if (e.length() > limits::kMaxFsFileBytes || *sum + e.length() > limits::kMaxFsFileBytes) {
    return LimitExceeded("file", *sum + e.length(), limits::kMaxFsFileBytes);
  }
  *sum += e.length();
  return absl::OkStatus();
}

// A write in delta form: a well-formed base, no full list, splices in order within the limits.
// Whether they fit the base, and the size of the result, are the state machine's to check.
absl::Status CheckDelta(const v1::FsWrite& w) {
  if (w.base().size() != kFsVersionIdBytes) {
    return absl::InvalidArgumentError("a write with splices names a malformed base version");
  }
  if (w.extents_size() > 0) {
    return absl::InvalidArgumentError("a write with a base version carries splices, not extents");
  }
  if (static_cast<size_t>(w.splices_size()) > limits::kMaxFsSplicesPerWrite) {
    return LimitExceeded("write", w.splices_size(), limits::kMaxFsSplicesPerWrite, "splices");
  }
  uint64_t at = 0;
  size_t extents = 0;
  for (const auto& s : w.splices()) {
    if (s.begin() < at || s.end() < s.begin()) {
      return absl::InvalidArgumentError("a write's splices are out of order or overlap");
    }
    if (s.begin() == s.end() && s.extents().empty()) {
      return absl::InvalidArgumentError("a splice changes nothing");
    }
    if (s.end() > limits::kMaxFsExtentsPerVersion) {
      return absl::InvalidArgumentError("a splice reaches beyond any version's extents");
    }
    at = s.end();
    extents += static_cast<size_t>(s.extents_size());
    if (extents > limits::kMaxFsExtentsPerVersion) {
      return LimitExceeded("write's splices", extents, limits::kMaxFsExtentsPerVersion,
                           "extents");
    }
    uint64_t sum = 0;
    for (const auto& e : s.extents()) LATTICE_RETURN_IF_ERROR(CheckExtent(e, &sum));
  }
  return absl::OkStatus();
}

absl::Status CheckOp(const v1::FsOp& op) {
  switch (op.op_case()) {
    case v1::FsOp::kCreate: {
      const auto& c = op.create();
      LATTICE_RETURN_IF_ERROR(CheckFsName(c.name()));
      if (!KnownType(c.attr().mode())) {
        return absl::InvalidArgumentError(
            fmt::format("create has an unknown file type in mode {:o}", c.attr().mode()));
      }
      if (c.attr().mode() & ~(static_cast<uint32_t>(S_IFMT) | 07777u)) {
        return absl::InvalidArgumentError("create has unknown bits in its mode");
      }
      bool symlink = (c.attr().mode() & S_IFMT) == S_IFLNK;
      if (symlink && c.symlink_target().empty()) {
        return absl::InvalidArgumentError("a symlink needs a target");
      }
      if (!symlink && !c.symlink_target().empty()) {
        return absl::InvalidArgumentError("only a symlink has a target");
      }
      if (c.symlink_target().size() > limits::kMaxFsSymlinkBytes) {
        return LimitExceeded("symlink target", c.symlink_target().size(),
                             limits::kMaxFsSymlinkBytes);
      }
      if (c.symlink_target().find('\0') != std::string::npos) {
        return absl::InvalidArgumentError("a symlink target holds no NUL byte");
      }
      if (!c.nonce().empty() && c.nonce().size() != kFsNonceBytes) {
        return absl::InvalidArgumentError(fmt::format(
            "a create's nonce is {} bytes, not {}", c.nonce().size(), kFsNonceBytes));
      }
      LATTICE_RETURN_IF_ERROR(CheckTime(c.attr().atime(), "create atime"));
      LATTICE_RETURN_IF_ERROR(CheckTime(c.attr().mtime(), "create mtime"));
      return CheckTime(c.attr().ctime(), "create ctime");
    }
    case v1::FsOp::kLink:
      return CheckFsName(op.link().name());
    case v1::FsOp::kMove:
      LATTICE_RETURN_IF_ERROR(CheckFsName(op.move().name()));
      return CheckVersionIds(op.move().seen_versions(), "unlink");
    case v1::FsOp::kWrite: {
      const auto& w = op.write();
      if (w.size() > limits::kMaxFsFileBytes) {
        return LimitExceeded("file", w.size(), limits::kMaxFsFileBytes);
      }
      if (!w.base().empty() || w.splices_size() > 0) {
        LATTICE_RETURN_IF_ERROR(CheckDelta(w));
      } else {
        if (static_cast<size_t>(w.extents_size()) > limits::kMaxFsExtentsPerVersion) {
          return LimitExceeded("file version", w.extents_size(), limits::kMaxFsExtentsPerVersion,
                               "extents");
        }
        uint64_t sum = 0;
        for (const auto& e : w.extents()) LATTICE_RETURN_IF_ERROR(CheckExtent(e, &sum));
        if (sum != w.size()) {
          return absl::InvalidArgumentError(
              fmt::format("a version's extents hold {} bytes but its size is {}", sum, w.size()));
        }
      }
      LATTICE_RETURN_IF_ERROR(CheckVersionIds(w.replaces(), "write"));
      LATTICE_RETURN_IF_ERROR(CheckTime(w.mtime(), "write mtime"));
      return CheckTime(w.ctime(), "write ctime");
    }
    case v1::FsOp::kSetAttr: {
      const auto& s = op.set_attr();
      if (s.has_mode() && (s.mode() & ~07777u)) {
        return absl::InvalidArgumentError("setattr may change only the permission bits");
      }
      LATTICE_RETURN_IF_ERROR(CheckTime(s.atime(), "setattr atime"));
      LATTICE_RETURN_IF_ERROR(CheckTime(s.mtime(), "setattr mtime"));
      return CheckTime(s.ctime(), "setattr ctime");
    }
    case v1::FsOp::kSetXattr: {
      const auto& x = op.set_xattr();
      if (x.name().empty()) return absl::InvalidArgumentError("an xattr needs a name");
      if (x.name().size() > limits::kMaxFsXattrNameBytes) {
        return LimitExceeded("xattr name", x.name().size(), limits::kMaxFsXattrNameBytes);
      }
      if (x.name().find('\0') != std::string::npos) {
        return absl::InvalidArgumentError("an xattr name holds no NUL byte");
      }
      if (x.value().size() > limits::kMaxFsXattrValueBytes) {
        return LimitExceeded("xattr value", x.value().size(), limits::kMaxFsXattrValueBytes);
      }
      if (x.remove() && !x.value().empty()) {
        return absl::InvalidArgumentError("an xattr removal carries a value");
      }
      return absl::OkStatus();
    }
    case v1::FsOp::kResolve:
      if (op.resolve().versions().empty()) {
        return absl::InvalidArgumentError("a resolve names no version");
      }
      return CheckVersionIds(op.resolve().versions(), "resolve");
    case v1::FsOp::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("an fs op has no known kind");
}

}  // namespace

absl::Status CheckFsName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("a name must not be empty");
  if (name.size() > limits::kMaxFsNameBytes) {
    return LimitExceeded("name", name.size(), limits::kMaxFsNameBytes);
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError("\".\" and \"..\" are not names of entries");
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("a name holds no '/' or NUL byte");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::FsPayload> ParseFsPayload(std::string_view payload) {
  v1::FsPayload parsed;
  if (!parsed.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("fs payload is not a valid FsPayload message");
  }
  if (parsed.ops_size() == 0) return absl::InvalidArgumentError("fs payload has no operations");
  if (static_cast<size_t>(parsed.ops_size()) > limits::kMaxFsOpsPerIntention) {
    return LimitExceeded("fs intention", parsed.ops_size(), limits::kMaxFsOpsPerIntention,
                         "operations");
  }
  for (int i = 0; i < parsed.ops_size(); ++i) {
    if (absl::Status s = CheckOp(parsed.ops(i)); !s.ok()) {
      return absl::Status(s.code(), fmt::format("fs op {}: {}", i, s.message()));
    }
  }
  return parsed;
}

std::vector<std::string> FsChunksCited(const v1::FsPayload& payload) {
  std::vector<std::string> out;
  std::set<std::string_view> seen;
  for (const auto& op : payload.ops()) {
    if (op.op_case() != v1::FsOp::kWrite) continue;
    for (const auto& e : op.write().extents()) {
      if (!e.hash().empty() && seen.insert(e.hash()).second) out.push_back(e.hash());
    }
    for (const auto& s : op.write().splices()) {
      for (const auto& e : s.extents()) {
        if (!e.hash().empty() && seen.insert(e.hash()).second) out.push_back(e.hash());
      }
    }
  }
  return out;
}

std::vector<std::string> FsBaseIntentions(const v1::FsPayload& payload) {
  std::vector<std::string> out;
  for (const auto& op : payload.ops()) {
    if (op.op_case() != v1::FsOp::kWrite || op.write().base().size() < kHashBytes) continue;
    std::string hash = op.write().base().substr(0, kHashBytes);
    if (std::find(out.begin(), out.end(), hash) == out.end()) out.push_back(std::move(hash));
  }
  return out;
}

}  // namespace lattice::kernel
