// Chunk garbage collection through the real kernel and lattice-ctl: files put and then
// removed give their pack bytes back once the collector runs, what is still shown stays
// readable and `debug verify` passes; and on a disk the chunks filled, `fs rm` still succeeds
// (metadata writes keep a reserve the chunks may not use), the space comes back, and writes
// succeed again without the operator freeing anything else.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "harness/kernel_process.h"
#include "harness/process.h"
#include "lattice/common/files.h"

namespace lattice::testing {
namespace {

namespace fs = std::filesystem;

class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Random bytes (nothing deduplicates) in a local file.
std::string LocalFile(const std::string& dir, const std::string& name, size_t bytes, uint32_t seed) {
  std::string path = dir + "/" + name;
  std::mt19937_64 rng(seed);
  std::string data(bytes, '\0');
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(data.data() + i, &v, 8);
  }
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  return path;
}

// Bytes of every chunk pack of every store of the kernel.
uint64_t PackBytes(const KernelProcess& kernel) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& store : fs::directory_iterator(kernel.data_dir() + "/stores", ec)) {
    fs::path packs = store.path() / "chunks" / "packs";
    if (!fs::exists(packs, ec)) continue;
    for (const auto& pack : fs::directory_iterator(packs, ec)) total += fs::file_size(pack.path(), ec);
  }
  return total;
}

class KernelChunkGc : public ::testing::Test {
 protected:
  CommandResult CtlOk(KernelProcess& kernel, const std::vector<std::string>& args) {
    CommandResult r = kernel.Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err;
    return r;
  }
  ScratchDir local_;
};

TEST_F(KernelChunkGc, RemovedFilesGiveTheirPackBytesBack) {
  ScratchDir dir;
  KernelProcess kernel(dir.path(), {"--fs-gc-interval-ms", "100", "--fs-gc-grace-ms", "0",
                                    "--fs-gc-touch-ms", "5000"});
  ASSERT_TRUE(kernel.Start().ok());
  CtlOk(kernel, {"store", "create", "docs", "--type", "fs"});
  CtlOk(kernel, {"fs", "put", "docs", "/keep.txt", LocalFile(local_.path(), "keep", 100'000, 1)});
  for (int i = 0; i < 4; ++i) {
    CtlOk(kernel, {"fs", "put", "docs", "/big" + std::to_string(i),
                   LocalFile(local_.path(), "big", 4 << 20, 10 + static_cast<uint32_t>(i))});
  }
  // An overwrite: the first version goes too.
  CtlOk(kernel, {"fs", "put", "docs", "/big0", LocalFile(local_.path(), "big", 1 << 20, 99)});
  uint64_t before = PackBytes(kernel);
  EXPECT_GE(before, 16u << 20);
  for (int i = 1; i < 4; ++i) CtlOk(kernel, {"fs", "rm", "docs", "/big" + std::to_string(i)});
  uint64_t after = before;
  EXPECT_TRUE(WaitFor([&] {
    after = PackBytes(kernel);
    return after < 2u << 20;
  }, std::chrono::seconds(60))) << after << " pack bytes of " << before << " remain";
  std::printf("pack bytes: %llu before the removals, %llu after the collection\n",
              static_cast<unsigned long long>(before), static_cast<unsigned long long>(after));
  CommandResult cat = CtlOk(kernel, {"fs", "cat", "docs", "/keep.txt"});
  EXPECT_TRUE(cat.out == *ReadFile(local_.path() + "/keep")) << "keep.txt reads back wrong";
  cat = CtlOk(kernel, {"fs", "cat", "docs", "/big0"});
  EXPECT_TRUE(cat.out == *ReadFile(local_.path() + "/big")) << "big0 reads back wrong";
  // The overwritten version is still listed, but its content went: restoring it says so and
  // changes nothing.
  CommandResult history = CtlOk(kernel, {"fs", "history", "docs", "/big0"});
  std::string oldest = history.out.substr(history.out.rfind('\n', history.out.size() - 2) + 1);
  oldest = oldest.substr(0, oldest.find(' '));
  CommandResult restore = kernel.Ctl({"fs", "restore", "docs", "/big0", oldest});
  EXPECT_NE(restore.exit_code, 0) << history.out;
  EXPECT_NE(restore.err.find("cannot be restored"), std::string::npos) << restore.err;
  EXPECT_NE(restore.err.find("ENODATA"), std::string::npos) << restore.err;
  cat = CtlOk(kernel, {"fs", "cat", "docs", "/big0"});
  EXPECT_TRUE(cat.out == *ReadFile(local_.path() + "/big")) << "big0 changed";
  CtlOk(kernel, {"debug", "verify", "docs"});
  // The kernel restarts on the compacted packs.
  EXPECT_EQ(kernel.Stop(), 0);
  ASSERT_TRUE(kernel.Start().ok());
  cat = CtlOk(kernel, {"fs", "cat", "docs", "/keep.txt"});
  EXPECT_TRUE(cat.out == *ReadFile(local_.path() + "/keep")) << "keep.txt reads back wrong";
  CtlOk(kernel, {"debug", "verify", "docs"});
  EXPECT_EQ(kernel.Stop(), 0);
}

TEST_F(KernelChunkGc, RmOnAFullDiskSucceedsAndTheSpaceComesBack) {
  ScratchDir dir;
  TmpfsMount tmpfs(dir.path(), "48m");
  if (!tmpfs.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
  KernelProcess kernel(dir.path(), {"--min-free-bytes", std::to_string(4 << 20),
                                    "--fs-gc-interval-ms", "100", "--fs-gc-grace-ms", "0",
                                    "--fs-gc-touch-ms", "5000"});
  ASSERT_TRUE(kernel.Start().ok());
  CtlOk(kernel, {"store", "create", "docs", "--type", "fs"});
  CtlOk(kernel, {"fs", "put", "docs", "/keep.txt", LocalFile(local_.path(), "keep", 1000, 1)});
  // Fill the disk with files until a put fails.
  int stored = 0;
  CommandResult failed;
  for (int i = 0; i < 40; ++i) {
    CommandResult r = kernel.Ctl({"fs", "put", "docs", "/fill" + std::to_string(i),
                                  LocalFile(local_.path(), "fill", 2 << 20, 100 + static_cast<uint32_t>(i))});
    if (r.exit_code != 0) {
      failed = r;
      break;
    }
    ++stored;
  }
  ASSERT_NE(failed.exit_code, 0) << "40 files of 2 MiB fitted on a 48 MiB disk";
  EXPECT_NE(failed.err.find("ENOSPC"), std::string::npos) << failed.err;
  ASSERT_GT(stored, 5);
  uint64_t full = PackBytes(kernel);
  // Every rm succeeds on the full disk.
  for (int i = 0; i < stored; ++i) CtlOk(kernel, {"fs", "rm", "docs", "/fill" + std::to_string(i)});
  // The collector gives the space back, and the drive writes again.
  uint64_t after = full;
  EXPECT_TRUE(WaitFor([&] {
    after = PackBytes(kernel);
    return after < 1u << 20;
  }, std::chrono::seconds(60))) << after << " pack bytes of " << full << " remain";
  std::printf("pack bytes: %llu on the full disk, %llu after rm and collection\n",
              static_cast<unsigned long long>(full), static_cast<unsigned long long>(after));
  for (int i = 0; i < 3; ++i) {
    CtlOk(kernel, {"fs", "put", "docs", "/again" + std::to_string(i),
                   LocalFile(local_.path(), "again", 2 << 20, 500 + static_cast<uint32_t>(i))});
  }
  CommandResult cat = CtlOk(kernel, {"fs", "cat", "docs", "/keep.txt"});
  EXPECT_TRUE(cat.out == *ReadFile(local_.path() + "/keep")) << "keep.txt reads back wrong";
  CtlOk(kernel, {"debug", "verify", "docs"});
  EXPECT_EQ(kernel.Stop(), 0);
}

}  // namespace
}  // namespace lattice::testing
