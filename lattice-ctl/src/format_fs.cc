#include "format_fs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "errors.h"
#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "output.h"

namespace lattice::ctl {
namespace {

constexpr size_t kVersionShortDigits = 12;

bool FormatUtc(int64_t sec, const char* format, std::string* out) {
  auto seconds = static_cast<std::time_t>(sec);
  std::tm utc{};
  if (::gmtime_r(&seconds, &utc) == nullptr) return false;
  char buffer[48];
  size_t n = std::strftime(buffer, sizeof buffer, format, &utc);
  out->assign(buffer, n);
  return true;
}

bool IsSymlink(uint32_t mode) { return (mode & S_IFMT) == S_IFLNK; }

std::string Escaped(const std::string& bytes) { return EscapeForLine(bytes); }

// Right-aligns `text` in `width` columns.
std::string Right(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string Left(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

// An author as a column shows it: a name as it is, a node id (64 hex digits) abbreviated.
std::string AuthorCell(const std::string& author) {
  if (author.empty()) return "-";
  bool hex = std::all_of(author.begin(), author.end(),
                         [](unsigned char c) { return std::isxdigit(c) != 0; });
  return hex ? AbbreviateId(author) : Escaped(author);
}

}  // namespace

std::string FsModeString(uint32_t mode) {
  char type = '?';
  switch (mode & S_IFMT) {
    case S_IFREG: type = '-'; break;
    case S_IFDIR: type = 'd'; break;
    case S_IFLNK: type = 'l'; break;
    case S_IFIFO: type = 'p'; break;
    case S_IFSOCK: type = 's'; break;
    case S_IFCHR: type = 'c'; break;
    case S_IFBLK: type = 'b'; break;
    default: break;
  }
  std::string out(10, '-');
  out[0] = type;
  const char letters[] = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) out[1 + i] = letters[i];
  }
  auto special = [&](size_t at, uint32_t bit, char lower) {
    if (!(mode & bit)) return;
    bool exec = out[at] == 'x';
    out[at] = exec ? lower : static_cast<char>(std::toupper(lower));
  };
  special(3, S_ISUID, 's');
  special(6, S_ISGID, 's');
  special(9, S_ISVTX, 't');
  return out;
}

std::string FsTypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "char device";
    case S_IFBLK: return "block device";
    default: return "unknown";
  }
}

std::string FormatFsTimeShort(const v1::FsTime& time) {
  std::string out;
  if (!FormatUtc(time.sec(), "%Y-%m-%d %H:%M", &out)) return std::to_string(time.sec());
  return out;
}

std::string FormatFsTime(const v1::FsTime& time) {
  std::string out;
  if (!FormatUtc(time.sec(), "%Y-%m-%dT%H:%M:%S", &out)) return std::to_string(time.sec());
  return fmt::format("{}.{:09}Z", out, time.nsec());
}

nlohmann::json FsTimeJson(const v1::FsTime& time) {
  return nlohmann::json{{"sec", time.sec()}, {"nsec", time.nsec()}};
}

std::string FsLsLine(const FsListed& entry) { return Escaped(entry.name); }

std::string FsLsLongText(const std::vector<FsListed>& entries) {
  struct Row {
    std::string mode, nlink, uid, gid, size, mtime, name;
  };
  std::vector<Row> rows;
  size_t w_nlink = 0, w_uid = 0, w_gid = 0, w_size = 0;
  for (const auto& entry : entries) {
    const auto& attr = entry.stat.attr();
    Row row{FsModeString(attr.mode()),
            std::to_string(entry.stat.nlink()),
            std::to_string(attr.uid()),
            std::to_string(attr.gid()),
            std::to_string(entry.stat.size()),
            FormatFsTimeShort(attr.mtime()),
            Escaped(entry.name)};
    if (IsSymlink(attr.mode())) row.name += " -> " + Escaped(entry.target);
    w_nlink = std::max(w_nlink, row.nlink.size());
    w_uid = std::max(w_uid, row.uid.size());
    w_gid = std::max(w_gid, row.gid.size());
    w_size = std::max(w_size, row.size.size());
    rows.push_back(std::move(row));
  }
  std::string out;
  for (const auto& row : rows) {
    out += fmt::format("{} {} {} {} {} {} {}\n", row.mode, Right(row.nlink, w_nlink),
                       Left(row.uid, w_uid), Left(row.gid, w_gid), Right(row.size, w_size),
                       row.mtime, row.name);
  }
  return out;
}

nlohmann::json FsListedJson(const FsListed& entry) {
  const auto& attr = entry.stat.attr();
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "name", entry.name);
  out["ino"] = entry.stat.ino();
  out["type"] = FsTypeName(attr.mode());
  out["mode"] = fmt::format("{:04o}", attr.mode() & 07777);
  out["nlink"] = entry.stat.nlink();
  out["uid"] = attr.uid();
  out["gid"] = attr.gid();
  out["size"] = entry.stat.size();
  out["mtime"] = FsTimeJson(attr.mtime());
  if (IsSymlink(attr.mode())) SetBytes(out, "target", entry.target);
  return out;
}

std::string FsStatText(const std::string& path, const FsListed& entry) {
  const auto& stat = entry.stat;
  const auto& attr = stat.attr();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"path", Escaped(path)},
      {"type", FsTypeName(attr.mode())},
  };
  if (IsSymlink(attr.mode())) fields.emplace_back("target", Escaped(entry.target));
  fields.insert(fields.end(), {
      {"inode", std::to_string(stat.ino())},
      {"mode", fmt::format("{:04o} ({})", attr.mode() & 07777, FsModeString(attr.mode()))},
      {"links", std::to_string(stat.nlink())},
      {"uid", std::to_string(attr.uid())},
      {"gid", std::to_string(attr.gid())},
      {"size", std::to_string(stat.size())},
      {"blocks", std::to_string(stat.blocks())},
  });
  uint32_t type = attr.mode() & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK) fields.emplace_back("rdev", std::to_string(attr.rdev()));
  fields.insert(fields.end(), {
      {"atime", FormatFsTime(attr.atime())},
      {"mtime", FormatFsTime(attr.mtime())},
      {"ctime", FormatFsTime(attr.ctime())},
  });
  if (!stat.version().empty()) fields.emplace_back("version", FsVersionShort(stat.version()));
  return FormatFields(fields);
}

nlohmann::json FsStatJson(const std::string& path, const FsListed& entry) {
  nlohmann::json out = FsListedJson(entry);
  SetBytes(out, "path", path);
  const auto& attr = entry.stat.attr();
  out["rdev"] = attr.rdev();
  out["blocks"] = entry.stat.blocks();
  out["atime"] = FsTimeJson(attr.atime());
  out["ctime"] = FsTimeJson(attr.ctime());
  if (!entry.stat.version().empty()) out["version"] = ToHex(entry.stat.version());
  return out;
}

std::string FsVersionShort(const std::string& version) {
  return AbbreviateId(ToHex(version), kVersionShortDigits);
}

std::string FsConflictsText(const v1::FsConflictsResponse& response) {
  if (response.conflicts().empty()) return "no conflicts\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& conflict : response.conflicts()) {
    rows.push_back({Escaped(conflict.path()), Escaped(conflict.original()),
                    AuthorCell(conflict.author()),
                    FormatTimeMs(conflict.hlc().wall_ms())});
  }
  return FormatTable({"PATH", "ORIGINAL", "AUTHOR", "TIME"}, rows);
}

nlohmann::json FsConflictsJson(const v1::FsConflictsResponse& response) {
  nlohmann::json conflicts = nlohmann::json::array();
  for (const auto& conflict : response.conflicts()) {
    nlohmann::json item = nlohmann::json::object();
    SetBytes(item, "path", conflict.path());
    SetBytes(item, "original", conflict.original());
    item["ino"] = conflict.ino();
    item["kind"] = conflict.version().empty() ? "name" : "content";
    if (!conflict.version().empty()) item["version"] = ToHex(conflict.version());
    item["author"] = conflict.author();
    item["hlc"] = HlcJson(conflict.hlc());
    item["time"] = FormatTimeMs(conflict.hlc().wall_ms());
    conflicts.push_back(std::move(item));
  }
  return nlohmann::json{{"conflicts", std::move(conflicts)}};
}

std::vector<v1::FsHistoryEntry> FsHistoryNewestFirst(const v1::FsHistoryResponse& response) {
  std::vector<v1::FsHistoryEntry> versions(response.versions().begin(),
                                           response.versions().end());
  std::stable_sort(versions.begin(), versions.end(),
                   [](const v1::FsHistoryEntry& a, const v1::FsHistoryEntry& b) {
                     if (a.hlc().wall_ms() != b.hlc().wall_ms()) {
                       return a.hlc().wall_ms() > b.hlc().wall_ms();
                     }
                     return a.hlc().counter() > b.hlc().counter();
                   });
  return versions;
}

std::string FsHistoryText(const std::vector<v1::FsHistoryEntry>& versions,
                          const std::string& winner) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& version : versions) {
    std::string marks;
    if (version.head()) marks = version.version() == winner ? "head, winner" : "head";
    rows.push_back({FsVersionShort(version.version()), FormatTimeMs(version.hlc().wall_ms()),
                    AuthorCell(version.author()),
                    std::to_string(version.size()), marks});
  }
  return FormatTable({"VERSION", "TIME", "AUTHOR", "SIZE", "MARKS"}, rows);
}

nlohmann::json FsHistoryJson(const std::string& path,
                             const std::vector<v1::FsHistoryEntry>& versions,
                             const std::string& winner) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& version : versions) {
    nlohmann::json replaces = nlohmann::json::array();
    for (const auto& replaced : version.replaces()) replaces.push_back(ToHex(replaced));
    items.push_back(nlohmann::json{{"version", ToHex(version.version())},
                                   {"short", FsVersionShort(version.version())},
                                   {"hlc", HlcJson(version.hlc())},
                                   {"time", FormatTimeMs(version.hlc().wall_ms())},
                                   {"author", version.author()},
                                   {"size", version.size()},
                                   {"mtime", FsTimeJson(version.mtime())},
                                   {"head", version.head()},
                                   {"winner", version.version() == winner},
                                   {"replaces", std::move(replaces)}});
  }
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "path", path);
  out["versions"] = std::move(items);
  return out;
}

absl::StatusOr<std::string> FindFsVersion(const std::string& prefix,
                                          const std::vector<v1::FsHistoryEntry>& versions) {
  std::string wanted = prefix;
  std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (wanted.empty() || !std::all_of(wanted.begin(), wanted.end(), [](unsigned char c) {
        return std::isxdigit(c) != 0;
      })) {
    return UsageError(fmt::format("VERSION must be hex digits as fs history prints them, got '{}'",
                                  EscapeForLine(prefix)));
  }
  std::vector<std::string> matches;
  for (const auto& version : versions) {
    if (ToHex(version.version()).rfind(wanted, 0) == 0) matches.push_back(version.version());
  }
  if (matches.empty()) {
    return PlainError(absl::StatusCode::kNotFound,
                      fmt::format("no version of this file starts with {}", wanted));
  }
  if (matches.size() > 1) {
    std::string names;
    for (const auto& match : matches) {
      if (!names.empty()) names += ", ";
      names += ToHex(match).substr(0, std::max(wanted.size() + 4, kVersionShortDigits));
    }
    return PlainError(absl::StatusCode::kInvalidArgument,
                      fmt::format("version {} is ambiguous: {}", wanted, names));
  }
  return matches.front();
}

absl::Status FsCommandError(const std::string& what, const absl::Status& status) {
  if (status.ok() || IsUsageError(status) || IsPlainError(status)) {
    if (IsPlainError(status)) {
      return PlainError(status.code(), what + ": " + std::string(status.message()));
    }
    return status;
  }
  std::string message(status.message());
  if (message.find("[errno=") != std::string::npos) {
    int err = FsErrnoOf(status);
    std::string words = std::strerror(err);
    if (!words.empty()) words[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(words[0])));
    std::string name(FsErrnoName(err));
    std::string said = name.empty() ? fmt::format("{}: {}", what, words)
                                    : fmt::format("{}: {} ({})", what, words, name);
    // Where the words alone leave the reader guessing (which disk, which chunk, why), the
    // kernel's own explanation follows.
    if (err == EIO || err == ENOSPC || err == ENODATA) {
      std::string why = message.substr(0, message.find(" [errno="));
      if (!why.empty()) said += ": " + why;
    }
    return PlainError(status.code(), said);
  }
  // The kernel out of reach (or gone mid-call): said as every other command says it.
  if (status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kDeadlineExceeded ||
      status.code() == absl::StatusCode::kCancelled) {
    return status;
  }
  if (message.empty()) return PlainError(status.code(), fmt::format("{}: {}", what, DescribeStatus(status)));
  return PlainError(status.code(), fmt::format("{}: {}", what, message));
}

absl::StatusOr<std::vector<std::string>> SplitFsPath(const std::string& path) {
  if (path.size() > limits::kMaxFsPathBytes) {
    return FsError(ENAMETOOLONG, fmt::format("a path has at most {} bytes", limits::kMaxFsPathBytes));
  }
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(start, end - start);
    if (name == "." || name == "..") {
      return FsError(EINVAL, "'.' and '..' are not names in a store's path");
    }
    if (name.size() > limits::kMaxFsNameBytes) {
      return FsError(ENAMETOOLONG,
                     fmt::format("a name has at most {} bytes", limits::kMaxFsNameBytes));
    }
    if (!name.empty()) names.push_back(std::move(name));
    start = end + 1;
  }
  return names;
}

absl::StatusOr<uint32_t> ParseFsMode(const std::string& text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; })) {
    return UsageError(fmt::format("--mode takes octal permission bits such as 0644, got '{}'",
                                  EscapeForLine(text)));
  }
  uint32_t mode = static_cast<uint32_t>(std::stoul(text, nullptr, 8));
  if (mode > 07777) {
    return UsageError(fmt::format("--mode takes at most 07777, got '{}'", text));
  }
  return mode;
}

}  // namespace lattice::ctl
