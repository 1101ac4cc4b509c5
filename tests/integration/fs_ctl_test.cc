// lattice-ctl's fs commands through the real binary against a real kernel: put, ls, stat,
// cat, get, mkdir, mv, rm, history, restore and conflicts on an fs store, the errors people
// meet (missing paths, a non-empty directory, a store of another type), and --json output.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <random>

#include "harness/kernel_process.h"
#include "lattice/common/files.h"

namespace lattice::testing {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t word = random();
    for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(word >> (8 * j));
  }
  return out;
}

class FsCtl : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok()) << ReadLog();
    CtlOk({"store", "create", "docs", "--type", "fs"});
  }

  std::string ReadLog() {
    auto log = ReadFile(kernel_.log_path());
    return log.ok() ? *log : "";
  }

  CommandResult CtlOk(const std::vector<std::string>& args, const std::string& input = "") {
    CommandResult r = kernel_.Ctl(args, input);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": "
                              << r.err;
    return r;
  }

  // A failure: exit 1 and the one line lattice-ctl prints for it.
  std::string CtlFails(const std::vector<std::string>& args) {
    CommandResult r = kernel_.Ctl(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    return Trim(r.err);
  }

  nlohmann::json CtlJson(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    CommandResult r = CtlOk(args);
    nlohmann::json json = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << r.out;
    return json;
  }

  std::string Local(const std::string& name) { return dir_.path() + "/" + name; }

  void WriteLocal(const std::string& name, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomic(Local(name), data, 0644).ok());
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
};

TEST_F(FsCtl, PutListCatGetMoveAndRemove) {
  std::string big = RandomBytes(3 * 1024 * 1024, 7);
  WriteLocal("big.bin", big);
  WriteLocal("small.txt", "hello, drive\n");
  ASSERT_EQ(::chmod(Local("big.bin").c_str(), 0644), 0);
  ASSERT_EQ(::chmod(Local("small.txt").c_str(), 0640), 0);

  CtlOk({"fs", "put", "docs", "/big.bin", Local("big.bin")});
  nlohmann::json put = CtlJson({"fs", "put", "docs", "/small.txt", Local("small.txt")});
  EXPECT_EQ(put["size"], 13);
  EXPECT_EQ(put["created"], true);
  // Stdin, binary-safe.
  std::string binary("a\0b\xff\n", 5);
  CtlOk({"fs", "put", "docs", "/stdin.bin", "-"}, binary);
  // The same big content again: every chunk is already there, nothing is uploaded.
  nlohmann::json again = CtlJson({"fs", "put", "docs", "/copy.bin", Local("big.bin")});
  EXPECT_GT(again["chunks"].get<int>(), 10);
  EXPECT_EQ(again["uploaded_chunks"], 0);

  EXPECT_EQ(CtlOk({"fs", "ls", "docs"}).out, "big.bin\ncopy.bin\nsmall.txt\nstdin.bin\n");
  std::vector<std::string> lines = Lines(CtlOk({"fs", "ls", "docs", "/", "-l"}).out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].substr(0, 12), "-rw-r--r-- 1") << lines[0];
  EXPECT_NE(lines[0].find(" 3145728 "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].substr(lines[0].size() - 8), " big.bin") << lines[0];
  EXPECT_EQ(lines[2].substr(0, 10), "-rw-r-----") << lines[2];
  EXPECT_NE(lines[2].find(" 13 "), std::string::npos) << lines[2];

  std::string stat = CtlOk({"fs", "stat", "docs", "/small.txt"}).out;
  EXPECT_NE(stat.find("0640 (-rw-r-----)"), std::string::npos) << stat;
  EXPECT_NE(stat.find("size:"), std::string::npos) << stat;
  nlohmann::json stat_json = CtlJson({"fs", "stat", "docs", "/small.txt"});
  EXPECT_EQ(stat_json["size"], 13);
  EXPECT_EQ(stat_json["type"], "file");
  EXPECT_EQ(stat_json["mode"], "0640");

  EXPECT_TRUE(CtlOk({"fs", "cat", "docs", "/big.bin"}).out == big);
  EXPECT_EQ(CtlOk({"fs", "cat", "docs", "/stdin.bin"}).out, binary);
  EXPECT_EQ(CtlOk({"fs", "get", "docs", "/stdin.bin", "-"}).out, binary);

  CtlOk({"fs", "get", "docs", "/big.bin", Local("got.bin")});
  auto got = ReadFile(Local("got.bin"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == big);
  struct stat local {};
  ASSERT_EQ(::stat(Local("got.bin").c_str(), &local), 0);
  EXPECT_EQ(local.st_mode & 0700, 0600u);
  // An existing local file is kept unless --force.
  std::string refused = CtlFails({"fs", "get", "docs", "/small.txt", Local("got.bin")});
  EXPECT_NE(refused.find("--force"), std::string::npos) << refused;
  CtlOk({"fs", "get", "docs", "/small.txt", Local("got.bin"), "--force"});
  EXPECT_EQ(*ReadFile(Local("got.bin")), "hello, drive\n");

  CtlOk({"fs", "mkdir", "docs", "/a/b/c", "-p"});
  CtlOk({"fs", "mkdir", "docs", "/a/b/c", "-p"});  // existing: no error with -p
  EXPECT_EQ(CtlFails({"fs", "mkdir", "docs", "/a"}),
            "lattice-ctl: fs mkdir docs /a: file exists (EEXIST)");
  EXPECT_EQ(CtlFails({"fs", "mkdir", "docs", "/x/y"}),
            "lattice-ctl: fs mkdir docs /x/y: no such file or directory (ENOENT)");
  CtlOk({"fs", "mv", "docs", "/small.txt", "/a/b"});       // into a directory
  CtlOk({"fs", "mv", "docs", "/stdin.bin", "/a/renamed"});  // to a new name
  EXPECT_EQ(CtlOk({"fs", "ls", "docs", "/a/b"}).out, "c\nsmall.txt\n");
  EXPECT_EQ(CtlOk({"fs", "cat", "docs", "/a/b/small.txt"}).out, "hello, drive\n");
  EXPECT_EQ(CtlOk({"fs", "cat", "docs", "/a/renamed"}).out, binary);
  nlohmann::json listing = CtlJson({"fs", "ls", "docs", "/a"});
  ASSERT_EQ(listing["entries"].size(), 2u);
  EXPECT_EQ(listing["entries"][0]["name"], "b");
  EXPECT_EQ(listing["entries"][0]["type"], "directory");
  EXPECT_EQ(listing["entries"][1]["name"], "renamed");
  EXPECT_EQ(listing["entries"][1]["size"], 5);

  EXPECT_EQ(CtlFails({"fs", "rm", "docs", "/a/b"}),
            "lattice-ctl: fs rm docs /a/b: directory not empty (ENOTEMPTY)");
  CtlOk({"fs", "rm", "docs", "/a/b/small.txt"});
  CtlOk({"fs", "rm", "docs", "/a/b/c"});
  CtlOk({"fs", "rm", "docs", "/a/b"});
  EXPECT_EQ(CtlOk({"fs", "ls", "docs", "/a"}).out, "renamed\n");
}

TEST_F(FsCtl, RunsOfZerosAreStoredAsHolesAndReadBackAsZeros) {
  std::string sparse = RandomBytes(300 * 1024, 1) + std::string(2 * 1024 * 1024, '\0') +
                       RandomBytes(200 * 1024, 2);
  WriteLocal("sparse.bin", sparse);
  nlohmann::json put = CtlJson({"fs", "put", "docs", "/sparse.bin", Local("sparse.bin")});
  EXPECT_EQ(put["size"], sparse.size());
  EXPECT_LT(put["uploaded_bytes"].get<uint64_t>(), sparse.size() - 1024 * 1024);
  EXPECT_TRUE(CtlOk({"fs", "cat", "docs", "/sparse.bin"}).out == sparse);
  nlohmann::json stat = CtlJson({"fs", "stat", "docs", "/sparse.bin"});
  EXPECT_LT(stat["blocks"].get<uint64_t>() * 512, sparse.size());

  // A new version of an existing file keeps its mode unless --mode says otherwise.
  CtlOk({"fs", "put", "docs", "/sparse.bin", "-"}, "short now\n");
  EXPECT_EQ(CtlJson({"fs", "stat", "docs", "/sparse.bin"})["mode"], "0644");
  CtlOk({"fs", "put", "docs", "/sparse.bin", "-", "--mode", "0600"}, "shorter\n");
  nlohmann::json after = CtlJson({"fs", "stat", "docs", "/sparse.bin"});
  EXPECT_EQ(after["mode"], "0600");
  EXPECT_EQ(after["size"], 8);
  EXPECT_EQ(CtlOk({"fs", "cat", "docs", "/sparse.bin"}).out, "shorter\n");
}

TEST_F(FsCtl, ErrorsSayWhatFailedAndWhy) {
  EXPECT_EQ(CtlFails({"fs", "ls", "docs", "/nope"}),
            "lattice-ctl: fs ls docs /nope: no such file or directory (ENOENT)");
  EXPECT_EQ(CtlFails({"fs", "cat", "docs", "/nope/deeper"}),
            "lattice-ctl: fs cat docs /nope/deeper: no such file or directory (ENOENT)");
  EXPECT_EQ(CtlFails({"fs", "rm", "docs", "/nope"}),
            "lattice-ctl: fs rm docs /nope: no such file or directory (ENOENT)");
  CtlOk({"fs", "mkdir", "docs", "/dir"});
  EXPECT_EQ(CtlFails({"fs", "cat", "docs", "/dir"}),
            "lattice-ctl: fs cat docs /dir: is a directory (EISDIR)");

  CtlOk({"store", "create", "notes", "--type", "kv"});
  std::string wrong = CtlFails({"fs", "ls", "notes", "/"});
  EXPECT_EQ(wrong.rfind("lattice-ctl: fs ls notes /: ", 0), 0u) << wrong;
  EXPECT_NE(wrong.find("is a kv store"), std::string::npos) << wrong;

  CommandResult json = kernel_.Ctl({"--json", "fs", "ls", "docs", "/nope"});
  EXPECT_EQ(json.exit_code, 1);
  nlohmann::json error = nlohmann::json::parse(json.err);
  EXPECT_EQ(error["error"]["code"], "NOT_FOUND");
  EXPECT_EQ(error["error"]["message"], "fs ls docs /nope: no such file or directory (ENOENT)");

  CommandResult usage = kernel_.Ctl({"fs", "put", "docs", "/a", "-", "--mode", "999"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

TEST_F(FsCtl, HistoryListsEveryVersionAndRestoreBringsOneBack) {
  for (const char* content : {"first\n", "second version\n", "third, the longest version\n"}) {
    CtlOk({"fs", "put", "docs", "/notes.txt", "-"}, content);
  }
  EXPECT_EQ(CtlOk({"fs", "cat", "docs", "/notes.txt"}).out, "third, the longest version\n");

  std::vector<std::string> lines = Lines(CtlOk({"fs", "history", "docs", "/notes.txt"}).out);
  ASSERT_EQ(lines.size(), 4u);  // the header and three versions, newest first
  EXPECT_EQ(lines[0].rfind("VERSION", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find("head, winner"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(" 27 "), std::string::npos) << lines[1];
  EXPECT_NE(lines[3].find(" 6"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[3].find("head"), std::string::npos) << lines[3];

  nlohmann::json history = CtlJson({"fs", "history", "docs", "/notes.txt"});
  ASSERT_EQ(history["versions"].size(), 3u);
  EXPECT_EQ(history["versions"][2]["size"], 6);
  std::string first = lines[3].substr(0, lines[3].find(' '));
  EXPECT_EQ(first, history["versions"][2]["short"].get<std::string>());

  CtlOk({"fs", "restore", "docs", "/notes.txt", first.substr(0, 8)});
  EXPECT_EQ(CtlOk({"fs", "cat", "docs", "/notes.txt"}).out, "first\n");
  EXPECT_EQ(Lines(CtlOk({"fs", "history", "docs", "/notes.txt"}).out).size(), 5u);
  EXPECT_EQ(CtlFails({"fs", "restore", "docs", "/notes.txt", "0000000000"}).rfind(
                "lattice-ctl: fs restore docs /notes.txt 0000000000: no version", 0),
            0u);

  EXPECT_EQ(CtlOk({"fs", "conflicts", "docs"}).out, "no conflicts\n");
  nlohmann::json conflicts = CtlJson({"fs", "conflicts", "docs"});
  EXPECT_EQ(conflicts["conflicts"].size(), 0u);
}

}  // namespace
}  // namespace lattice::testing
