// Per-method RPC counters for Admin.Metrics: calls, errors, calls in flight (which for a
// Watch method are its open streams) and a latency histogram of the unary calls. A server
// interceptor feeds them, so every call is counted without any handler doing it.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/latency_histogram.h"

namespace lattice::kernel::metrics {

struct MethodMetrics {
  std::string service;  // "Kv"
  std::string method;   // "Put"
  bool streaming = false;
  std::atomic<uint64_t> calls{0};   // ended
  std::atomic<uint64_t> errors{0};  // ended with a status other than OK (or none at all)
  std::atomic<int64_t> in_flight{0};
  LatencyHistogram latency;         // unary calls only: a stream's length is not a latency
};

// Thread-safe: the methods are fixed at construction, so neither a lookup nor a count takes a
// lock.
class RpcMetrics {
 public:
  // Every method of the named services (full protobuf names, "lattice.v1.Kv"); a name the
  // generated descriptor pool does not know is skipped.
  explicit RpcMetrics(const std::vector<std::string>& services);

  // The counters of `path` as gRPC names a call ("/lattice.v1.Kv/Put"); nullptr for a
  // method that is not one of the services'.
  MethodMetrics* Find(std::string_view path) const;
  // In the services' order, then the methods' order in the .proto.
  const std::vector<std::unique_ptr<MethodMetrics>>& methods() const { return methods_; }

 private:
  std::vector<std::unique_ptr<MethodMetrics>> methods_;
  std::map<std::string, MethodMetrics*, std::less<>> by_path_;
};

// Counts every call of a method `metrics` knows. `metrics` outlives the server.
class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(const RpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const RpcMetrics& metrics_;
};

}  // namespace lattice::kernel::metrics
