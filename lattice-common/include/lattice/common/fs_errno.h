// How an fs failure carries its errno across the Store Protocol (fs_service.proto): the
// status message ends with " [errno=NAME]" and the gRPC code is the one that errno suggests,
// so lattice-fuse answers the exact errno and lattice-ctl still prints a sentence.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace lattice {

// An absl::Status with the code that suits `err` and the message "<message> [errno=NAME]".
absl::Status FsError(int err, std::string_view message);

// The errno a status carries: the one named in its message, else the one its code suggests
// (NOT_FOUND: ENOENT, PERMISSION_DENIED: EACCES, DEADLINE_EXCEEDED and UNAVAILABLE: EIO, ...).
// 0 for OK.
int FsErrnoOf(const absl::Status& status);
int FsErrnoOf(int grpc_code, std::string_view message);

// "ENOENT" for ENOENT; "" for a number without a name here.
std::string_view FsErrnoName(int err);
// ENOENT for "ENOENT"; 0 for an unknown name.
int FsErrnoFromName(std::string_view name);

}  // namespace lattice
