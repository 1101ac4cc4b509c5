// The one place where gRPC statuses become absl::Status: same code, same message.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace lattice::client {

absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace lattice::client
