// Fs store commands: fs ls, stat, cat, put, get, mkdir, rm, mv, conflicts, history, restore.
// Paths are walked from the root (inode 1) with Lookup; failures read as the command and what
// went wrong ("fs ls docs /nope: no such file or directory (ENOENT)").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "commands.h"
#include "errors.h"
#include "format_fs.h"
#include "lattice/client/fs_client.h"
#include "lattice/common/chunker.h"
#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"

namespace lattice::ctl {
namespace {

using client::FsClient;

constexpr uint64_t kRootIno = 1;
constexpr uint32_t kReadDirPage = 1024;
constexpr uint32_t kHistoryLimit = 1000;
// How much of a local file is read at a time while chunking it.
constexpr size_t kReadBlockBytes = 1024 * 1024;

// "fs ls docs /nope": the command as typed, for error messages.
std::string What(const std::string& command, const Arguments& args,
                 std::initializer_list<std::string> operands) {
  std::string out = fmt::format("fs {} {}", command, EscapeForLine(args.store));
  for (const auto& operand : operands) out += " " + EscapeForLine(operand);
  return out;
}

bool IsDir(const v1::FsStat& stat) { return (stat.attr().mode() & S_IFMT) == S_IFDIR; }
bool IsRegular(const v1::FsStat& stat) { return (stat.attr().mode() & S_IFMT) == S_IFREG; }
bool IsLink(const v1::FsStat& stat) { return (stat.attr().mode() & S_IFMT) == S_IFLNK; }

// The permission bits a new directory or stdin's file gets: `base` less this process's umask.
uint32_t LessUmask(uint32_t base) {
  mode_t mask = ::umask(0);
  ::umask(mask);
  return base & ~static_cast<uint32_t>(mask);
}

// The inode at `names` from the root.
absl::StatusOr<v1::FsStat> Resolve(FsClient& fs, const std::vector<std::string>& names,
                                   size_t count) {
  if (count == 0) return fs.GetAttr(kRootIno);
  v1::FsStat stat;
  uint64_t at = kRootIno;
  for (size_t i = 0; i < count; ++i) {
    LATTICE_ASSIGN_OR_RETURN(v1::FsEntryReply reply, fs.Lookup(at, names[i]));
    stat = reply.stat();
    at = stat.ino();
  }
  return stat;
}

absl::StatusOr<v1::FsStat> Resolve(FsClient& fs, const std::vector<std::string>& names) {
  return Resolve(fs, names, names.size());
}

// The directory holding the last name of `names` (which must not be the root).
absl::StatusOr<uint64_t> ResolveParent(FsClient& fs, const std::vector<std::string>& names) {
  if (names.empty()) return FsError(EBUSY, "the root directory cannot be changed that way");
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat parent, Resolve(fs, names, names.size() - 1));
  if (!IsDir(parent)) return FsError(ENOTDIR, "not a directory");
  return parent.ino();
}

absl::StatusOr<std::string> TargetOf(FsClient& fs, const v1::FsStat& stat) {
  if (!IsLink(stat)) return std::string();
  LATTICE_ASSIGN_OR_RETURN(v1::FsReadLinkResponse link, fs.ReadLink(stat.ino()));
  return link.target();
}

bool IsErrno(const absl::Status& status, int err) {
  return !status.ok() && FsErrnoOf(status) == err;
}

// Writes all of `data` to `fd`.
absl::Status WriteAll(int fd, std::string_view data, const std::string& file) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(fmt::format("cannot write {}: {}", file, std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Reads the content of file `stat` (its version as of `stat`, so a writer meanwhile does not
// mix two versions) in Read-sized pieces, handing each to `sink`.
absl::Status ReadContent(FsClient& fs, const v1::FsStat& stat,
                         const std::function<absl::Status(const std::string&)>& sink) {
  uint64_t offset = 0;
  while (true) {
    v1::FsReadRequest request;
    request.set_ino(stat.ino());
    request.set_offset(offset);
    request.set_length(limits::kMaxFsReadBytes);
    request.set_version(stat.version());
    LATTICE_ASSIGN_OR_RETURN(v1::FsReadResponse response, fs.Read(std::move(request)));
    if (!response.data().empty()) LATTICE_RETURN_IF_ERROR(sink(response.data()));
    offset += response.data().size();
    if (response.data().size() < limits::kMaxFsReadBytes) return absl::OkStatus();
  }
}

absl::StatusOr<std::unique_ptr<FsClient>> Connect(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  return std::make_unique<FsClient>(*client, session.args().store);
}

// ---- ls, stat, cat -------------------------------------------------------------------------

absl::Status Ls(Session& session, FsClient& fs, const std::string& path) {
  const Arguments& args = session.args();
  bool details = args.long_listing || session.json();
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat stat, Resolve(fs, names));
  std::vector<FsListed> entries;
  if (!IsDir(stat)) {
    LATTICE_ASSIGN_OR_RETURN(std::string target, details ? TargetOf(fs, stat) : std::string());
    entries.push_back({names.back(), stat, std::move(target)});
  } else {
    uint64_t offset = 0;
    while (true) {
      v1::FsReadDirRequest request;
      request.set_ino(stat.ino());
      request.set_offset(offset);
      request.set_max_entries(kReadDirPage);
      request.set_plus(details);
      LATTICE_ASSIGN_OR_RETURN(v1::FsReadDirResponse page, fs.ReadDir(std::move(request)));
      for (const auto& entry : page.entries()) {
        offset = entry.offset();
        if (entry.name() == "." || entry.name() == "..") continue;
        FsListed listed{entry.name(), entry.stat(), {}};
        if (!details) listed.stat.mutable_attr()->set_mode(entry.mode());
        if (details && IsLink(entry.stat())) {
          LATTICE_ASSIGN_OR_RETURN(listed.target, TargetOf(fs, entry.stat()));
        }
        entries.push_back(std::move(listed));
      }
      if (page.end() || page.entries().empty()) break;
    }
    std::sort(entries.begin(), entries.end(),
              [](const FsListed& a, const FsListed& b) { return a.name < b.name; });
  }
  Printer& printer = session.printer();
  if (session.json()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& entry : entries) items.push_back(FsListedJson(entry));
    nlohmann::json out = nlohmann::json::object();
    SetBytes(out, "path", path);
    out["entries"] = std::move(items);
    return printer.Json(out);
  }
  if (args.long_listing) return printer.Write(FsLsLongText(entries));
  for (const auto& entry : entries) LATTICE_RETURN_IF_ERROR(printer.Line(FsLsLine(entry)));
  return absl::OkStatus();
}

absl::Status Stat(Session& session, FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat stat, Resolve(fs, names));
  LATTICE_ASSIGN_OR_RETURN(std::string target, TargetOf(fs, stat));
  FsListed entry{names.empty() ? "/" : names.back(), stat, std::move(target)};
  if (session.json()) return session.printer().Json(FsStatJson(path, entry));
  return session.printer().Write(FsStatText(path, entry));
}

absl::Status Cat(Session& session, FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat stat, Resolve(fs, names));
  if (IsDir(stat)) return FsError(EISDIR, "is a directory");
  if (!IsRegular(stat)) return FsError(EINVAL, "not a regular file");
  Printer& printer = session.printer();
  return ReadContent(fs, stat, [&](const std::string& data) { return printer.Write(data); });
}

// ---- put, get ------------------------------------------------------------------------------

// The chunks of one upload: each new one is asked after (MissingChunks) and sent (PutChunks)
// in batches within the limits of one call.
class Uploader {
 public:
  explicit Uploader(FsClient& fs) : fs_(fs) {}

  absl::Status Add(std::string_view data) {
    if (size_ + data.size() > limits::kMaxFsFileBytes) {
      return FsError(EFBIG, fmt::format("a file holds at most {} bytes", limits::kMaxFsFileBytes));
    }
    if (extents_.size() >= limits::kMaxFsExtentsPerVersion) {
      return FsError(EFBIG, fmt::format("a version holds at most {} chunks",
                                        limits::kMaxFsExtentsPerVersion));
    }
    size_ += data.size();
    v1::FsExtent extent;
    extent.set_length(data.size());
    // A chunk of zeros is a hole: nothing to store.
    if (std::all_of(data.begin(), data.end(), [](char c) { return c == 0; })) {
      extents_.push_back(std::move(extent));
      return absl::OkStatus();
    }
    std::string hash = ChunkHash(data);
    extent.set_hash(hash);
    extents_.push_back(std::move(extent));
    if (!seen_.insert(hash).second) return absl::OkStatus();
    if (batch_.chunks_size() >= static_cast<int>(limits::kMaxFsChunksPerCall) ||
        batch_bytes_ + data.size() > limits::kMaxFsPutChunksBytes) {
      LATTICE_RETURN_IF_ERROR(Flush());
    }
    v1::FsChunk* chunk = batch_.add_chunks();
    chunk->set_hash(std::move(hash));
    chunk->set_data(std::string(data));
    batch_bytes_ += data.size();
    return absl::OkStatus();
  }

  absl::Status Flush() {
    if (batch_.chunks().empty()) return absl::OkStatus();
    v1::FsMissingChunksRequest ask;
    for (const auto& chunk : batch_.chunks()) ask.add_hashes(chunk.hash());
    LATTICE_ASSIGN_OR_RETURN(v1::FsMissingChunksResponse missing, fs_.MissingChunks(std::move(ask)));
    std::set<std::string> wanted(missing.missing().begin(), missing.missing().end());
    v1::FsPutChunksRequest put;
    for (auto& chunk : *batch_.mutable_chunks()) {
      if (wanted.count(chunk.hash()) == 0) continue;
      uploaded_bytes_ += chunk.data().size();
      *put.add_chunks() = std::move(chunk);
    }
    batch_.Clear();
    batch_bytes_ = 0;
    if (put.chunks().empty()) return absl::OkStatus();
    uploaded_ += static_cast<uint64_t>(put.chunks_size());
    return fs_.PutChunks(std::move(put)).status();
  }

  uint64_t size() const { return size_; }
  uint64_t uploaded() const { return uploaded_; }
  uint64_t uploaded_bytes() const { return uploaded_bytes_; }
  size_t chunks() const { return seen_.size(); }
  std::vector<v1::FsExtent>& extents() { return extents_; }

 private:
  FsClient& fs_;
  std::vector<v1::FsExtent> extents_;
  std::set<std::string> seen_;
  v1::FsPutChunksRequest batch_;
  size_t batch_bytes_ = 0;
  uint64_t size_ = 0;
  uint64_t uploaded_ = 0;
  uint64_t uploaded_bytes_ = 0;
};

// Chunks everything `fd` holds into `uploader`.
absl::Status ChunkStream(int fd, const std::string& source, Uploader& uploader) {
  Chunker chunker;
  std::string buffer;
  size_t start = 0;
  bool eof = false;
  while (true) {
    while (!eof && buffer.size() - start < limits::kFsChunkMaxBytes) {
      if (start > 0) {
        buffer.erase(0, start);
        start = 0;
      }
      size_t old = buffer.size();
      buffer.resize(old + kReadBlockBytes);
      ssize_t n = ::read(fd, buffer.data() + old, kReadBlockBytes);
      if (n < 0) {
        buffer.resize(old);
        if (errno == EINTR) continue;
        return absl::UnavailableError(fmt::format("cannot read {}: {}", source, std::strerror(errno)));
      }
      buffer.resize(old + static_cast<size_t>(n));
      if (n == 0) eof = true;
    }
    std::string_view rest(buffer.data() + start, buffer.size() - start);
    if (rest.empty()) return absl::OkStatus();
    size_t cut = chunker.NextCut(rest);
    LATTICE_RETURN_IF_ERROR(uploader.Add(rest.substr(0, cut)));
    start += cut;
  }
}

absl::Status Put(Session& session, FsClient& fs, const std::string& path) {
  const Arguments& args = session.args();
  std::optional<uint32_t> mode;
  if (args.mode) {
    LATTICE_ASSIGN_OR_RETURN(mode, ParseFsMode(*args.mode));
  }
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  if (names.empty()) return FsError(EISDIR, "is a directory");

  // The local side: a file (never a directory), or stdin.
  bool from_stdin = args.local_file.empty() || args.local_file == "-";
  std::string source = from_stdin ? "stdin" : args.local_file;
  int fd = STDIN_FILENO;
  uint32_t local_mode = LessUmask(0666);
  uint32_t uid = ::getuid();
  uint32_t gid = ::getgid();
  if (!from_stdin) {
    fd = ::open(args.local_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::NotFoundError(
          fmt::format("cannot open {}: {}", EscapeForLine(args.local_file), std::strerror(errno)));
    }
    struct stat local {};
    if (::fstat(fd, &local) != 0 || S_ISDIR(local.st_mode)) {
      ::close(fd);
      return absl::InvalidArgumentError(
          fmt::format("{} is a directory; fs put stores one file", EscapeForLine(args.local_file)));
    }
    local_mode = local.st_mode & 07777;
    uid = local.st_uid;
    gid = local.st_gid;
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } closer{fd};

  // Where it goes, before anything is uploaded: a new name in a directory, or a file.
  LATTICE_ASSIGN_OR_RETURN(uint64_t parent, ResolveParent(fs, names));
  std::optional<v1::FsStat> existing;
  auto found = fs.Lookup(parent, names.back());
  if (found.ok()) {
    if (IsDir(found->stat())) return FsError(EISDIR, "is a directory");
    if (!IsRegular(found->stat())) return FsError(EINVAL, "not a regular file");
    existing = found->stat();
  } else if (!IsErrno(found.status(), ENOENT)) {
    return found.status();
  }

  Uploader uploader(fs);
  LATTICE_RETURN_IF_ERROR(ChunkStream(fd, source, uploader));
  LATTICE_RETURN_IF_ERROR(uploader.Flush());

  uint64_t ino = 0;
  std::string based_on;
  if (existing) {
    ino = existing->ino();
    based_on = existing->version();
    if (mode && *mode != (existing->attr().mode() & 07777)) {
      v1::FsSetAttrRequest request;
      request.set_ino(ino);
      request.set_mode(*mode);
      LATTICE_RETURN_IF_ERROR(fs.SetAttr(std::move(request)).status());
    }
  } else {
    v1::FsCreateRequest request;
    request.set_parent(parent);
    request.set_name(names.back());
    request.set_mode(S_IFREG | mode.value_or(local_mode));
    request.set_uid(uid);
    request.set_gid(gid);
    LATTICE_ASSIGN_OR_RETURN(v1::FsEntryReply created, fs.Create(std::move(request)));
    ino = created.stat().ino();
    based_on = created.stat().version();
  }
  v1::FsCommitRequest commit;
  commit.set_ino(ino);
  commit.set_size(uploader.size());
  commit.set_based_on(based_on);
  for (auto& extent : uploader.extents()) *commit.add_extents() = std::move(extent);
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat stat, fs.Commit(std::move(commit)));
  if (!session.json()) return absl::OkStatus();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "path", path);
  out["ino"] = stat.ino();
  out["size"] = stat.size();
  out["version"] = ToHex(stat.version());
  out["created"] = !existing.has_value();
  out["chunks"] = uploader.chunks();
  out["uploaded_chunks"] = uploader.uploaded();
  out["uploaded_bytes"] = uploader.uploaded_bytes();
  return session.printer().Json(out);
}

absl::Status Get(Session& session, FsClient& fs, const std::string& path) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat stat, Resolve(fs, names));
  if (IsDir(stat)) return FsError(EISDIR, "is a directory");
  if (!IsRegular(stat)) return FsError(EINVAL, "not a regular file");

  const std::string& file = args.local_file;
  if (file == "-") {
    Printer& printer = session.printer();
    return ReadContent(fs, stat, [&](const std::string& data) { return printer.Write(data); });
  }
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (args.force ? O_TRUNC : O_EXCL);
  int fd = ::open(file.c_str(), flags, stat.attr().mode() & 0777);
  if (fd < 0) {
    int err = errno;
    std::string hint = err == EEXIST ? " (--force overwrites it)"
                       : err == ELOOP ? " (a symlink is never written through)"
                                      : "";
    return absl::Status(err == EEXIST ? absl::StatusCode::kAlreadyExists
                                      : absl::StatusCode::kFailedPrecondition,
                        fmt::format("cannot create {}: {}{}", EscapeForLine(file),
                                    std::strerror(err), hint));
  }
  absl::Status status = ReadContent(
      fs, stat, [&](const std::string& data) { return WriteAll(fd, data, EscapeForLine(file)); });
  if (::close(fd) != 0 && status.ok()) {
    status = absl::UnavailableError(
        fmt::format("cannot write {}: {}", EscapeForLine(file), std::strerror(errno)));
  }
  if (!status.ok()) {
    if (!args.force) ::unlink(file.c_str());
    return status;
  }
  if (!session.json()) return absl::OkStatus();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "path", path);
  SetBytes(out, "file", file);
  out["size"] = stat.size();
  out["version"] = ToHex(stat.version());
  return session.printer().Json(out);
}

// ---- mkdir, rm, mv -------------------------------------------------------------------------

absl::StatusOr<v1::FsStat> MakeDir(FsClient& fs, uint64_t parent, const std::string& name) {
  v1::FsCreateRequest request;
  request.set_parent(parent);
  request.set_name(name);
  request.set_mode(S_IFDIR | LessUmask(0777));
  request.set_uid(::getuid());
  request.set_gid(::getgid());
  LATTICE_ASSIGN_OR_RETURN(v1::FsEntryReply reply, fs.Create(std::move(request)));
  return reply.stat();
}

absl::Status Mkdir(Session& session, FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  v1::FsStat made;
  if (!session.args().parents) {
    if (names.empty()) return FsError(EEXIST, "the root directory exists");
    LATTICE_ASSIGN_OR_RETURN(uint64_t parent, ResolveParent(fs, names));
    LATTICE_ASSIGN_OR_RETURN(made, MakeDir(fs, parent, names.back()));
  } else {
    LATTICE_ASSIGN_OR_RETURN(made, fs.GetAttr(kRootIno));
    for (const auto& name : names) {
      auto found = fs.Lookup(made.ino(), name);
      if (!found.ok() && IsErrno(found.status(), ENOENT)) {
        auto created = MakeDir(fs, made.ino(), name);
        // Made meanwhile by someone else: as good.
        if (!created.ok() && IsErrno(created.status(), EEXIST)) {
          found = fs.Lookup(made.ino(), name);
        } else {
          if (!created.ok()) return created.status();
          made = *created;
          continue;
        }
      }
      if (!found.ok()) return found.status();
      if (!IsDir(found->stat())) return FsError(ENOTDIR, "not a directory");
      made = found->stat();
    }
  }
  if (!session.json()) return absl::OkStatus();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "path", path);
  out["ino"] = made.ino();
  return session.printer().Json(out);
}

absl::Status Rm(Session& session, FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  LATTICE_ASSIGN_OR_RETURN(uint64_t parent, ResolveParent(fs, names));
  LATTICE_ASSIGN_OR_RETURN(v1::FsEntryReply entry, fs.Lookup(parent, names.back()));
  LATTICE_ASSIGN_OR_RETURN(v1::FsChangeReply reply,
                           fs.Remove(parent, names.back(), IsDir(entry.stat())));
  if (!session.json()) return absl::OkStatus();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "path", path);
  out["ino"] = entry.stat().ino();
  return session.printer().Json(out);
}

absl::Status Mv(Session& session, FsClient& fs, const std::string& from, const std::string& to) {
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> from_names, SplitFsPath(from));
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> to_names, SplitFsPath(to));
  LATTICE_ASSIGN_OR_RETURN(uint64_t parent, ResolveParent(fs, from_names));
  LATTICE_RETURN_IF_ERROR(fs.Lookup(parent, from_names.back()).status());
  v1::FsRenameRequest request;
  request.set_parent(parent);
  request.set_name(from_names.back());
  // Into TO when it is a directory (as mv does), else to the name TO.
  auto target = Resolve(fs, to_names);
  if (target.ok() && IsDir(*target)) {
    request.set_new_parent(target->ino());
    request.set_new_name(from_names.back());
  } else if (target.ok() || IsErrno(target.status(), ENOENT)) {
    LATTICE_ASSIGN_OR_RETURN(uint64_t new_parent, ResolveParent(fs, to_names));
    request.set_new_parent(new_parent);
    request.set_new_name(to_names.back());
  } else {
    return target.status();
  }
  if (request.new_parent() == request.parent() && request.new_name() == request.name()) {
    return absl::OkStatus();
  }
  LATTICE_RETURN_IF_ERROR(fs.Rename(request).status());
  if (!session.json()) return absl::OkStatus();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "from", from);
  out["parent"] = request.new_parent();
  SetBytes(out, "name", request.new_name());
  return session.printer().Json(out);
}

// ---- conflicts, history, restore -----------------------------------------------------------

absl::StatusOr<std::pair<v1::FsStat, std::vector<v1::FsHistoryEntry>>> VersionsOf(
    FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitFsPath(path));
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat stat, Resolve(fs, names));
  if (IsDir(stat)) return FsError(EISDIR, "is a directory");
  if (!IsRegular(stat)) return FsError(EINVAL, "not a regular file");
  LATTICE_ASSIGN_OR_RETURN(v1::FsHistoryResponse history, fs.History(stat.ino(), kHistoryLimit));
  return std::make_pair(stat, FsHistoryNewestFirst(history));
}

absl::Status History(Session& session, FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(auto found, VersionsOf(fs, path));
  const auto& [stat, versions] = found;
  if (session.json()) return session.printer().Json(FsHistoryJson(path, versions, stat.version()));
  return session.printer().Write(FsHistoryText(versions, stat.version()));
}

absl::Status Restore(Session& session, FsClient& fs, const std::string& path) {
  LATTICE_ASSIGN_OR_RETURN(auto found, VersionsOf(fs, path));
  const auto& [stat, versions] = found;
  LATTICE_ASSIGN_OR_RETURN(std::string version, FindFsVersion(session.args().version, versions));
  v1::FsRestoreRequest request;
  request.set_ino(stat.ino());
  request.set_version(version);
  LATTICE_ASSIGN_OR_RETURN(v1::FsStat restored, fs.Restore(std::move(request)));
  if (!session.json()) return absl::OkStatus();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "path", path);
  out["restored"] = ToHex(version);
  out["version"] = ToHex(restored.version());
  out["size"] = restored.size();
  return session.printer().Json(out);
}

// Runs `body` with an FsClient, its failures told as `what` failed.
template <typename Body>
absl::Status WithFs(Session& session, const std::string& what, Body body) {
  auto fs = Connect(session);
  if (!fs.ok()) return fs.status();
  absl::Status status = body(**fs);
  if (status.ok() || IsStdoutClosed(status)) return status;
  return FsCommandError(what, status);
}

}  // namespace

absl::Status RunFsLs(Session& session) {
  const Arguments& args = session.args();
  std::string path = args.path.empty() ? "/" : args.path;
  return WithFs(session, What("ls", args, {path}),
                [&](FsClient& fs) { return Ls(session, fs, path); });
}

absl::Status RunFsStat(Session& session) {
  const Arguments& args = session.args();
  return WithFs(session, What("stat", args, {args.path}),
                [&](FsClient& fs) { return Stat(session, fs, args.path); });
}

absl::Status RunFsCat(Session& session) {
  const Arguments& args = session.args();
  if (session.json()) {
    return UsageError("fs cat writes the file's bytes as they are; --json does not apply "
                      "(fs stat describes a file, fs get copies it)");
  }
  return WithFs(session, What("cat", args, {args.path}),
                [&](FsClient& fs) { return Cat(session, fs, args.path); });
}

absl::Status RunFsPut(Session& session) {
  const Arguments& args = session.args();
  if (args.mode) LATTICE_RETURN_IF_ERROR(ParseFsMode(*args.mode).status());
  return WithFs(session, What("put", args, {args.path}),
                [&](FsClient& fs) { return Put(session, fs, args.path); });
}

absl::Status RunFsGet(Session& session) {
  const Arguments& args = session.args();
  if (args.local_file == "-" && session.json()) {
    return UsageError("fs get to - writes the file's bytes to stdout; --json does not apply");
  }
  return WithFs(session, What("get", args, {args.path, args.local_file}),
                [&](FsClient& fs) { return Get(session, fs, args.path); });
}

absl::Status RunFsMkdir(Session& session) {
  const Arguments& args = session.args();
  return WithFs(session, What("mkdir", args, {args.path}),
                [&](FsClient& fs) { return Mkdir(session, fs, args.path); });
}

absl::Status RunFsRm(Session& session) {
  const Arguments& args = session.args();
  return WithFs(session, What("rm", args, {args.path}),
                [&](FsClient& fs) { return Rm(session, fs, args.path); });
}

absl::Status RunFsMv(Session& session) {
  const Arguments& args = session.args();
  return WithFs(session, What("mv", args, {args.path, args.to}),
                [&](FsClient& fs) { return Mv(session, fs, args.path, args.to); });
}

absl::Status RunFsConflicts(Session& session) {
  return WithFs(session, What("conflicts", session.args(), {}), [&](FsClient& fs) -> absl::Status {
    LATTICE_ASSIGN_OR_RETURN(v1::FsConflictsResponse response, fs.Conflicts());
    if (session.json()) return session.printer().Json(FsConflictsJson(response));
    return session.printer().Write(FsConflictsText(response));
  });
}

absl::Status RunFsHistory(Session& session) {
  const Arguments& args = session.args();
  return WithFs(session, What("history", args, {args.path}),
                [&](FsClient& fs) { return History(session, fs, args.path); });
}

absl::Status RunFsRestore(Session& session) {
  const Arguments& args = session.args();
  return WithFs(session, What("restore", args, {args.path, args.version}),
                [&](FsClient& fs) { return Restore(session, fs, args.path); });
}

}  // namespace lattice::ctl
