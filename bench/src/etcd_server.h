// etcd (Debian's etcd-server) as the kernel benchmark's point of comparison: one member in a
// process of its own, serving its v3 gRPC API on a Unix socket, like the kernel it is
// measured beside. It fsyncs every acknowledged write, as the kernel does.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server_process.h"

namespace lattice::bench {

// Starts `binary` as a single member with its data, log and sockets under `dir` (made if
// missing), and waits until its KV API answers a put.
absl::StatusOr<std::unique_ptr<ServerProcess>> StartEtcd(const std::string& binary,
                                                         const std::string& dir);

// A channel of its own (its own connection) to the etcd serving on `socket`.
std::shared_ptr<grpc::Channel> EtcdChannel(const std::string& socket);

}  // namespace lattice::bench
