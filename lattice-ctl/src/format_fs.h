// How fs store results look: ls and ls -l lines, stat, conflicts and history for people, the
// same as JSON objects, and fs errors as people read them ("no such file or directory
// (ENOENT)").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/v1/fs_service.pb.h"

namespace lattice::ctl {

// One entry of a listing: its name, attributes and, for a symlink, its target.
struct FsListed {
  std::string name;
  v1::FsStat stat;
  std::string target;
};

// "drwxr-xr-x", "-rw-r--r--", "lrwxrwxrwx", with s/S and t/T for setuid, setgid and sticky.
std::string FsModeString(uint32_t mode);
// "file", "directory", "symlink", "fifo", "socket", "char device", "block device".
std::string FsTypeName(uint32_t mode);

// "2024-01-02 03:04" (UTC, minutes): the time column of ls -l.
std::string FormatFsTimeShort(const v1::FsTime& time);
// "2024-01-02T03:04:05.123456789Z" (UTC, nanoseconds).
std::string FormatFsTime(const v1::FsTime& time);
// {"sec","nsec"}
nlohmann::json FsTimeJson(const v1::FsTime& time);

// The name alone, escaped onto one line: ls without -l.
std::string FsLsLine(const FsListed& entry);
// ls -l: one line per entry, "MODE NLINK UID GID SIZE MTIME NAME[ -> TARGET]", the numbers
// right-aligned in their columns.
std::string FsLsLongText(const std::vector<FsListed>& entries);
// {"name","ino","type","mode","nlink","uid","gid","size","mtime","target"(symlinks)}; names
// that are not UTF-8 as hex with "name_encoding": "hex".
nlohmann::json FsListedJson(const FsListed& entry);

std::string FsStatText(const std::string& path, const FsListed& entry);
// FsListedJson plus "path","rdev","blocks","atime","ctime","version" (hex; files only).
nlohmann::json FsStatJson(const std::string& path, const FsListed& entry);

// The first 12 hex digits of a content version id: what history prints and restore takes.
std::string FsVersionShort(const std::string& version);

// A table PATH ORIGINAL AUTHOR TIME, or "no conflicts".
std::string FsConflictsText(const v1::FsConflictsResponse& response);
// {"conflicts":[{"path","original","ino","version"(hex, content conflicts),"author","hlc",
// "time"}]}
nlohmann::json FsConflictsJson(const v1::FsConflictsResponse& response);

// The versions newest first (by hlc). `winner` is the file's current version id.
std::vector<v1::FsHistoryEntry> FsHistoryNewestFirst(const v1::FsHistoryResponse& response);
// A table VERSION TIME AUTHOR SIZE MARKS, MARKS being "head", "head, winner" or empty.
std::string FsHistoryText(const std::vector<v1::FsHistoryEntry>& versions,
                          const std::string& winner);
// {"path","versions":[{"version"(hex),"short","hlc","time","author","size","mtime","head",
// "winner","replaces":[hex]}]}
nlohmann::json FsHistoryJson(const std::string& path,
                             const std::vector<v1::FsHistoryEntry>& versions,
                             const std::string& winner);

// The version of `versions` whose hex id starts with `prefix` (case-insensitive). A usage
// error for a prefix that is not hex; NOT_FOUND when none matches; INVALID_ARGUMENT naming
// the candidates when several do.
absl::StatusOr<std::string> FindFsVersion(const std::string& prefix,
                                          const std::vector<v1::FsHistoryEntry>& versions);

// A failed fs call as people read it: "<what>: no such file or directory (ENOENT)" when the
// kernel named an errno, "<what>: <message>" for the kernel's other refusals (a store of
// another type, an unknown store), and `status` unchanged when the kernel could not be
// reached. `what` is the command as typed, e.g. "fs ls docs /nope".
absl::Status FsCommandError(const std::string& what, const absl::Status& status);

// "/a/b/c" (or "a/b/c") as its names; empty for "/". Repeated and trailing slashes are
// ignored. EINVAL for "." or "..", ENAMETOOLONG for a name over 255 bytes or a path over
// 4096, as fs errors.
absl::StatusOr<std::vector<std::string>> SplitFsPath(const std::string& path);

// --mode: octal permission bits (at most 07777). A usage error otherwise.
absl::StatusOr<uint32_t> ParseFsMode(const std::string& text);

}  // namespace lattice::ctl
