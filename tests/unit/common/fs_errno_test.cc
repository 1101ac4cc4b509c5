// The errno of an fs failure survives the trip through a status message and a gRPC code.
#include "lattice/common/fs_errno.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace lattice {
namespace {

TEST(FsErrno, RoundTripsThroughTheStatusMessage) {
  for (int err : {ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, ENAMETOOLONG, EXDEV,
                  ENODATA, EPERM, ENOSPC, EROFS, EMLINK, ERANGE, ELOOP, EOPNOTSUPP}) {
    absl::Status status = FsError(err, "something failed");
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(FsErrnoOf(status), err) << status;
    auto message = status.message();
    EXPECT_EQ(FsErrnoOf(static_cast<int>(status.code()),
                        std::string_view(message.data(), message.size())),
              err);
    EXPECT_EQ(status.message().substr(0, 16), "something failed");
  }
}

TEST(FsErrno, CodesSuggestAnErrnoWhenTheMessageNamesNone) {
  EXPECT_EQ(FsErrnoOf(absl::OkStatus()), 0);
  EXPECT_EQ(FsErrnoOf(absl::NotFoundError("no such store")), ENOENT);
  EXPECT_EQ(FsErrnoOf(absl::PermissionDeniedError("token lacks write")), EACCES);
  EXPECT_EQ(FsErrnoOf(absl::UnavailableError("kernel gone")), EIO);
  EXPECT_EQ(FsErrnoOf(absl::ResourceExhaustedError("disk full")), ENOSPC);
  // A tag that names nothing known, or is cut off, falls back on the code.
  EXPECT_EQ(FsErrnoOf(absl::AlreadyExistsError("x [errno=EWHAT]")), EEXIST);
  EXPECT_EQ(FsErrnoOf(absl::InvalidArgumentError("x [errno=ENOENT")), EINVAL);
}

TEST(FsErrno, NamesAndNumbersMatch) {
  EXPECT_EQ(FsErrnoName(ENAMETOOLONG), "ENAMETOOLONG");
  EXPECT_EQ(FsErrnoFromName("ENOTEMPTY"), ENOTEMPTY);
  EXPECT_EQ(FsErrnoFromName("nonsense"), 0);
  EXPECT_EQ(FsErrnoName(-1), "");
  // An errno without a name here still travels, as EIO.
  EXPECT_EQ(FsErrnoOf(FsError(-1, "odd")), EIO);
}

}  // namespace
}  // namespace lattice
