// lattice-fuse's small decisions: which failures are retried while the kernel restarts, how a
// reply's errno is found, names, and struct stat from FsStat.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "lattice/common/fs_errno.h"
#include "src/attrs.h"
#include "src/kernel_link.h"

namespace lattice::fuse {
namespace {

TEST(KernelLink, RetriesOnlyWhenTheKernelWasNotThere) {
  EXPECT_TRUE(IsRetryable(FromGrpc(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                "failed to connect to all addresses"))));
  // An fs failure that travels as UNAVAILABLE names its errno: it is an answer.
  EXPECT_FALSE(IsRetryable(FsError(EAGAIN, "try again")));
  EXPECT_FALSE(IsRetryable(FromGrpc(grpc::Status(grpc::StatusCode::NOT_FOUND, "x"))));
  EXPECT_FALSE(IsRetryable(absl::OkStatus()));
}

TEST(KernelLink, ErrnosSurviveTheTrip) {
  for (int err : {ENOENT, EEXIST, ENOTEMPTY, EISDIR, ENOTDIR, ENAMETOOLONG, ENODATA, ERANGE}) {
    absl::Status status = FsError(err, "because");
    grpc::Status wire(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message().data(), status.message().size()));
    EXPECT_EQ(FsErrnoOf(FromGrpc(wire)), err) << err;
  }
  // A kernel that is gone gives EIO once the retries are over.
  EXPECT_EQ(FsErrnoOf(FromGrpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"))), EIO);
}

TEST(Attrs, NamesAndStat) {
  EXPECT_EQ(CheckName(std::string(255, 'a').c_str()), 0);
  EXPECT_EQ(CheckName(std::string(256, 'a').c_str()), ENAMETOOLONG);
  v1::FsStat stat;
  stat.set_ino(1234);
  stat.mutable_attr()->set_mode(S_IFREG | 04755);
  stat.mutable_attr()->set_uid(7);
  stat.mutable_attr()->mutable_mtime()->set_sec(100);
  stat.mutable_attr()->mutable_mtime()->set_nsec(5);
  stat.set_size(10);
  stat.set_nlink(3);
  struct stat out = ToStat(stat);
  EXPECT_EQ(out.st_ino, 1234u);
  EXPECT_EQ(out.st_mode, static_cast<mode_t>(S_IFREG | 04755));
  EXPECT_EQ(out.st_nlink, 3u);
  EXPECT_EQ(out.st_mtim.tv_sec, 100);
  EXPECT_EQ(out.st_mtim.tv_nsec, 5);
  EXPECT_EQ(ToFsTime(out.st_mtim).nsec(), 5u);
}

}  // namespace
}  // namespace lattice::fuse
