// A store on a small tmpfs fills up: writes fail with RESOURCE_EXHAUSTED, the kernel stays
// up and serves reads, and writes succeed again once space is freed.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "harness/kernel_process.h"
#include "lattice/common/files.h"

namespace lattice::testing {
namespace {

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

void FillBallast(const std::string& path, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  std::string chunk(1 << 20, 'b');
  for (size_t done = 0; done < bytes && out; done += chunk.size()) out.write(chunk.data(), chunk.size());
}

void RunDiskFull(const std::string& min_free) {
  ScratchDir dir;
  TmpfsMount tmpfs(dir.path(), "48m");
  if (!tmpfs.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
  KernelProcess kernel(dir.path(), {"--min-free-bytes", min_free});
  ASSERT_TRUE(kernel.Start().ok());
  auto client = kernel.Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CreateStore("full", "kv").ok());
  ASSERT_TRUE((*client)->Put("full", "before", "kept").ok());
  std::string ballast = dir.path() + "/ballast";
  FillBallast(ballast, 36u << 20);

  absl::Status failure;
  std::string value(256 << 10, 'x');
  for (int i = 0; i < 400 && failure.ok(); ++i) {
    failure = (*client)->Put("full", "fill/" + std::to_string(i), value).status();
  }
  ASSERT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
  EXPECT_NE(std::string(failure.message()).find("full"), std::string::npos) << failure;

  ASSERT_TRUE(kernel.running());
  auto read = (*client)->Get("full", "before");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->value(), "kept");
  EXPECT_TRUE((*client)->NodeStatus().ok());

  ASSERT_EQ(::unlink(ballast.c_str()), 0);
  absl::Status after = absl::UnknownError("not tried");
  EXPECT_TRUE(WaitFor([&] {
    after = (*client)->Put("full", "after", "written").status();
    return after.ok();
  }, std::chrono::seconds(20))) << after;
  auto verify = (*client)->VerifyStore("full");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << (verify->problems_size() ? verify->problems(0) : "");
  EXPECT_EQ(kernel.Stop(), 0);
}

TEST(KernelDiskFull, GuardRefusesWritesBeforeTheDiskIsFull) { RunDiskFull("4194304"); }

TEST(KernelDiskFull, LevelDbRunningOutOfSpaceRecoversAfterSpaceIsFreed) { RunDiskFull("0"); }

}  // namespace
}  // namespace lattice::testing
