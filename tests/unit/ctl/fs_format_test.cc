// lattice-ctl's fs commands without a kernel: their command lines, paths, modes, listings,
// stat, conflicts, history, version prefixes and errors as people read them.
#include <sys/stat.h>

#include <cerrno>
#include <sstream>

#include <gtest/gtest.h>

#include "cli.h"
#include "errors.h"
#include "format_fs.h"
#include "lattice/common/fs_errno.h"

namespace lattice::ctl {
namespace {

std::optional<int> Parse(std::vector<std::string> words, Arguments* args, std::string* err) {
  words.insert(words.begin(), "lattice-ctl");
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  std::ostringstream out;
  std::ostringstream errors;
  auto code = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), args, out, errors);
  *err = errors.str();
  return code;
}

v1::FsTime Time(int64_t sec, uint32_t nsec = 0) {
  v1::FsTime time;
  time.set_sec(sec);
  time.set_nsec(nsec);
  return time;
}

FsListed Entry(const std::string& name, uint32_t mode, uint64_t size, uint32_t nlink = 1,
               const std::string& target = "") {
  FsListed entry;
  entry.name = name;
  entry.target = target;
  entry.stat.set_ino(42);
  entry.stat.set_size(size);
  entry.stat.set_nlink(nlink);
  auto* attr = entry.stat.mutable_attr();
  attr->set_mode(mode);
  attr->set_uid(1000);
  attr->set_gid(100);
  *attr->mutable_mtime() = Time(1700000000, 5);  // 2023-11-14 22:13:20 UTC
  *attr->mutable_atime() = Time(1700000001);
  *attr->mutable_ctime() = Time(1700000002);
  return entry;
}

v1::FsHistoryEntry Version(char tag, uint64_t wall_ms, bool head, uint64_t size) {
  v1::FsHistoryEntry entry;
  entry.set_version(std::string(32, tag) + std::string("\x01\x00\x00\x00", 4));
  entry.mutable_hlc()->set_wall_ms(wall_ms);
  entry.set_author("laptop");
  entry.set_size(size);
  entry.set_head(head);
  return entry;
}

TEST(FsCli, EachCommandTakesItsOperandsAndFlags) {
  Arguments args;
  std::string err;
  ASSERT_FALSE(Parse({"fs", "ls", "docs", "/notes", "-l"}, &args, &err)) << err;
  EXPECT_EQ(args.command, Command::kFsLs);
  EXPECT_EQ(args.store, "docs");
  EXPECT_EQ(args.path, "/notes");
  EXPECT_TRUE(args.long_listing);

  Arguments ls_root;
  ASSERT_FALSE(Parse({"fs", "ls", "docs"}, &ls_root, &err)) << err;
  EXPECT_EQ(ls_root.path, "");

  Arguments put;
  ASSERT_FALSE(Parse({"fs", "put", "docs", "/a.txt", "-", "--mode", "0600"}, &put, &err)) << err;
  EXPECT_EQ(put.command, Command::kFsPut);
  EXPECT_EQ(put.local_file, "-");
  EXPECT_EQ(put.mode, "0600");

  Arguments get;
  ASSERT_FALSE(Parse({"fs", "get", "docs", "/a.txt", "out.txt", "--force"}, &get, &err)) << err;
  EXPECT_EQ(get.command, Command::kFsGet);
  EXPECT_EQ(get.local_file, "out.txt");
  EXPECT_TRUE(get.force);

  Arguments mkdir;
  ASSERT_FALSE(Parse({"fs", "mkdir", "docs", "/a/b", "-p"}, &mkdir, &err)) << err;
  EXPECT_TRUE(mkdir.parents);

  Arguments mv;
  ASSERT_FALSE(Parse({"fs", "mv", "docs", "/a", "/b"}, &mv, &err)) << err;
  EXPECT_EQ(mv.command, Command::kFsMv);
  EXPECT_EQ(mv.path, "/a");
  EXPECT_EQ(mv.to, "/b");

  Arguments restore;
  ASSERT_FALSE(Parse({"fs", "restore", "docs", "/a", "3fa2"}, &restore, &err)) << err;
  EXPECT_EQ(restore.command, Command::kFsRestore);
  EXPECT_EQ(restore.version, "3fa2");

  Arguments conflicts;
  ASSERT_FALSE(Parse({"fs", "conflicts", "docs"}, &conflicts, &err)) << err;
  EXPECT_EQ(conflicts.command, Command::kFsConflicts);

  Arguments store;
  ASSERT_FALSE(Parse({"store", "create", "docs", "--type", "fs"}, &store, &err)) << err;
  EXPECT_EQ(store.type, "fs");
}

TEST(FsCli, MissingOperandsAreUsageErrors) {
  Arguments args;
  std::string err;
  EXPECT_EQ(Parse({"fs", "stat", "docs"}, &args, &err), kExitUsage);
  EXPECT_EQ(Parse({"fs", "get", "docs", "/a"}, &args, &err), kExitUsage);
  EXPECT_EQ(Parse({"fs", "restore", "docs", "/a"}, &args, &err), kExitUsage);
  EXPECT_EQ(Parse({"fs"}, &args, &err), kExitUsage);
}

TEST(FsFormat, ModeStringsReadAsLsPrintsThem) {
  EXPECT_EQ(FsModeString(S_IFDIR | 0755), "drwxr-xr-x");
  EXPECT_EQ(FsModeString(S_IFREG | 0644), "-rw-r--r--");
  EXPECT_EQ(FsModeString(S_IFLNK | 0777), "lrwxrwxrwx");
  EXPECT_EQ(FsModeString(S_IFREG | S_ISUID | 0755), "-rwsr-xr-x");
  EXPECT_EQ(FsModeString(S_IFREG | S_ISGID | 0644), "-rw-r-Sr--");
  EXPECT_EQ(FsModeString(S_IFDIR | S_ISVTX | 0777), "drwxrwxrwt");
  EXPECT_EQ(FsModeString(S_IFIFO | 0600), "prw-------");
  EXPECT_EQ(FsModeString(S_IFCHR | 0600), "crw-------");
  EXPECT_EQ(FsTypeName(S_IFDIR), "directory");
  EXPECT_EQ(FsTypeName(S_IFLNK | 0777), "symlink");
}

TEST(FsFormat, LongListingAlignsNumbersAndShowsLinkTargets) {
  std::string text = FsLsLongText({Entry("a.txt", S_IFREG | 0644, 5),
                                   Entry("big.bin", S_IFREG | 0600, 3000000, 2),
                                   Entry("link", S_IFLNK | 0777, 5, 1, "a.txt"),
                                   Entry("sub", S_IFDIR | 0755, 0, 1)});
  EXPECT_EQ(text,
            "-rw-r--r-- 1 1000 100       5 2023-11-14 22:13 a.txt\n"
            "-rw------- 2 1000 100 3000000 2023-11-14 22:13 big.bin\n"
            "lrwxrwxrwx 1 1000 100       5 2023-11-14 22:13 link -> a.txt\n"
            "drwxr-xr-x 1 1000 100       0 2023-11-14 22:13 sub\n");
  EXPECT_EQ(FsLsLine(Entry("new\nline", S_IFREG | 0644, 0)), "new\\nline");
}

TEST(FsFormat, ListedJsonHasTheAgreedFields) {
  nlohmann::json json = FsListedJson(Entry("link", S_IFLNK | 0777, 5, 1, "a.txt"));
  EXPECT_EQ(json["name"], "link");
  EXPECT_EQ(json["ino"], 42);
  EXPECT_EQ(json["type"], "symlink");
  EXPECT_EQ(json["mode"], "0777");
  EXPECT_EQ(json["nlink"], 1);
  EXPECT_EQ(json["uid"], 1000);
  EXPECT_EQ(json["gid"], 100);
  EXPECT_EQ(json["size"], 5);
  EXPECT_EQ(json["mtime"]["sec"], 1700000000);
  EXPECT_EQ(json["mtime"]["nsec"], 5);
  EXPECT_EQ(json["target"], "a.txt");
  nlohmann::json bytes = FsListedJson(Entry(std::string("\xff\xfe", 2), S_IFREG | 0644, 0));
  EXPECT_EQ(bytes["name"], "fffe");
  EXPECT_EQ(bytes["name_encoding"], "hex");
  EXPECT_FALSE(bytes.contains("target"));
}

TEST(FsFormat, StatShowsEveryAttribute) {
  FsListed entry = Entry("a.txt", S_IFREG | 0640, 6, 2);
  entry.stat.set_version(std::string(32, '\xab') + std::string(4, '\0'));
  std::string text = FsStatText("/dir/a.txt", entry);
  for (const char* expected :
       {"path:", "/dir/a.txt", "type:", "file", "inode:", "42", "mode:", "0640 (-rw-r-----)",
        "links:", "uid:", "1000", "gid:", "100", "size:", "6", "mtime:",
        "2023-11-14T22:13:20.000000005Z", "version:", "abababababab"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " in\n" << text;
  }
  nlohmann::json json = FsStatJson("/dir/a.txt", entry);
  EXPECT_EQ(json["path"], "/dir/a.txt");
  EXPECT_EQ(json["mode"], "0640");
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_EQ(json["version"], hex + "00000000");
  EXPECT_EQ(json["ctime"]["sec"], 1700000002);
  FsListed link = Entry("l", S_IFLNK | 0777, 1, 1, "target");
  EXPECT_NE(FsStatText("/l", link).find("target:"), std::string::npos);
}

TEST(FsFormat, ConflictsListEachCopyWithItsOriginal) {
  v1::FsConflictsResponse none;
  EXPECT_EQ(FsConflictsText(none), "no conflicts\n");
  EXPECT_EQ(FsConflictsJson(none)["conflicts"].size(), 0u);

  v1::FsConflictsResponse response;
  auto* conflict = response.add_conflicts();
  conflict->set_path("/notes.sync-conflict-20231114-221320-laptop.txt");
  conflict->set_original("/notes.txt");
  conflict->set_ino(7);
  conflict->set_version(std::string(36, '\x01'));
  conflict->set_author("laptop");
  conflict->mutable_hlc()->set_wall_ms(1700000000000);
  std::string text = FsConflictsText(response);
  EXPECT_EQ(text.substr(0, text.find('\n')), "PATH                                             ORIGINAL    AUTHOR  TIME");
  EXPECT_NE(text.find("/notes.sync-conflict-20231114-221320-laptop.txt  /notes.txt  laptop  "
                      "2023-11-14T22:13:20Z"),
            std::string::npos)
      << text;
  nlohmann::json json = FsConflictsJson(response);
  ASSERT_EQ(json["conflicts"].size(), 1u);
  EXPECT_EQ(json["conflicts"][0]["original"], "/notes.txt");
  EXPECT_EQ(json["conflicts"][0]["kind"], "content");
  EXPECT_EQ(json["conflicts"][0]["author"], "laptop");
  EXPECT_EQ(json["conflicts"][0]["hlc"]["wall_ms"], 1700000000000);
}

TEST(FsFormat, HistoryIsNewestFirstWithHeadsAndTheWinnerMarked) {
  v1::FsHistoryResponse response;
  *response.add_versions() = Version('\x01', 1000, false, 3);
  *response.add_versions() = Version('\x03', 3000, true, 9);
  *response.add_versions() = Version('\x02', 2000, true, 6);
  std::vector<v1::FsHistoryEntry> versions = FsHistoryNewestFirst(response);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0].size(), 9u);
  EXPECT_EQ(versions[2].size(), 3u);
  std::string winner = versions[0].version();
  std::string text = FsHistoryText(versions, winner);
  EXPECT_EQ(text,
            "VERSION       TIME                  AUTHOR  SIZE  MARKS\n"
            "030303030303  1970-01-01T00:00:03Z  laptop  9     head, winner\n"
            "020202020202  1970-01-01T00:00:02Z  laptop  6     head\n"
            "010101010101  1970-01-01T00:00:01Z  laptop  3\n");
  nlohmann::json json = FsHistoryJson("/a", versions, winner);
  EXPECT_EQ(json["path"], "/a");
  ASSERT_EQ(json["versions"].size(), 3u);
  EXPECT_EQ(json["versions"][0]["short"], "030303030303");
  EXPECT_EQ(json["versions"][0]["winner"], true);
  EXPECT_EQ(json["versions"][1]["winner"], false);
  EXPECT_EQ(json["versions"][1]["head"], true);
  EXPECT_EQ(json["versions"][2]["version"].get<std::string>().size(), 72u);
}

TEST(FsFormat, VersionsAreFoundByAUniquePrefix) {
  std::vector<v1::FsHistoryEntry> versions = {Version('\x12', 1, false, 1),
                                              Version('\x13', 2, true, 2)};
  auto found = FindFsVersion("1212", versions);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, versions[0].version());
  EXPECT_TRUE(FindFsVersion("131313131313", versions).ok());
  EXPECT_TRUE(FindFsVersion("1313ABCD", versions).status().code() == absl::StatusCode::kNotFound);
  absl::Status ambiguous = FindFsVersion("1", versions).status();
  EXPECT_EQ(ambiguous.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ambiguous.message().find("ambiguous"), std::string::npos);
  EXPECT_TRUE(IsUsageError(FindFsVersion("xyz", versions).status()));
  EXPECT_TRUE(IsUsageError(FindFsVersion("", versions).status()));
}

TEST(FsFormat, ErrorsReadAsTheCommandAndItsErrno) {
  absl::Status missing = FsCommandError("fs ls docs /nope", FsError(ENOENT, "no entry 'nope' in 1"));
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DescribeStatus(missing), "fs ls docs /nope: no such file or directory (ENOENT)");
  EXPECT_EQ(ExitCodeFor(missing), kExitFailure);
  EXPECT_EQ(DescribeStatus(FsCommandError("fs rm docs /d", FsError(ENOTEMPTY, "x"))),
            "fs rm docs /d: directory not empty (ENOTEMPTY)");

  absl::Status other = FsCommandError(
      "fs ls notes /", absl::FailedPreconditionError("store notes is a kv store, not fs"));
  EXPECT_EQ(DescribeStatus(other), "fs ls notes /: store notes is a kv store, not fs");
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);

  absl::Status down = absl::UnavailableError("cannot connect to the kernel");
  EXPECT_EQ(FsCommandError("fs ls docs /", down), down);
  EXPECT_TRUE(IsUsageError(FsCommandError("fs put docs /a", UsageError("bad --mode"))));
  nlohmann::json json = nlohmann::json::parse(DescribeStatusJson(missing));
  EXPECT_EQ(json["error"]["code"], "NOT_FOUND");
  EXPECT_EQ(json["error"]["exit_code"], 1);
}

TEST(FsFormat, PathsSplitIntoNames) {
  EXPECT_EQ(*SplitFsPath("/"), std::vector<std::string>{});
  EXPECT_EQ(*SplitFsPath(""), std::vector<std::string>{});
  EXPECT_EQ(*SplitFsPath("/a//b/c/"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*SplitFsPath("a/b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(FsErrnoOf(SplitFsPath("/a/../b").status()), EINVAL);
  EXPECT_EQ(FsErrnoOf(SplitFsPath("/./b").status()), EINVAL);
  EXPECT_EQ(FsErrnoOf(SplitFsPath("/" + std::string(256, 'x')).status()), ENAMETOOLONG);
  EXPECT_TRUE(SplitFsPath("/" + std::string(255, 'x')).ok());
  EXPECT_EQ(FsErrnoOf(SplitFsPath(std::string(4097, '/')).status()), ENAMETOOLONG);
}

TEST(FsFormat, ModesAreOctal) {
  EXPECT_EQ(*ParseFsMode("0644"), 0644u);
  EXPECT_EQ(*ParseFsMode("755"), 0755u);
  EXPECT_EQ(*ParseFsMode("4755"), 04755u);
  EXPECT_TRUE(IsUsageError(ParseFsMode("0888").status()));
  EXPECT_TRUE(IsUsageError(ParseFsMode("rw").status()));
  EXPECT_TRUE(IsUsageError(ParseFsMode("").status()));
  EXPECT_TRUE(IsUsageError(ParseFsMode("17777").status()));
}

}  // namespace
}  // namespace lattice::ctl
