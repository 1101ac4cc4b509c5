#include "metrics/rpc_metrics.h"

#include <google/protobuf/descriptor.h>

#include <chrono>

namespace lattice::kernel::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Lives as long as its call: created as the call arrives, destroyed once it is done.
class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RpcMetricsInterceptor(MethodMetrics& metrics)
      : metrics_(metrics), started_(std::chrono::steady_clock::now()) {
    metrics_.in_flight.fetch_add(1, std::memory_order_relaxed);
  }

  ~RpcMetricsInterceptor() override {
    // A call that ends without a status (its client went away first) failed too.
    if (!counted_) Count(false);
    metrics_.in_flight.fetch_sub(1, std::memory_order_relaxed);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // Counted as the status is about to leave, so a client that has its answer finds its
    // call in the figures.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !counted_) {
      if (!metrics_.streaming) {
        metrics_.latency.Observe(std::chrono::steady_clock::now() - started_);
      }
      Count(methods->GetSendStatus().ok());
    }
    methods->Proceed();
  }

 private:
  void Count(bool ok) {
    counted_ = true;
    metrics_.calls.fetch_add(1, std::memory_order_relaxed);
    if (!ok) metrics_.errors.fetch_add(1, std::memory_order_relaxed);
  }

  MethodMetrics& metrics_;
  std::chrono::steady_clock::time_point started_;
  bool counted_ = false;
};

}  // namespace

RpcMetrics::RpcMetrics(const std::vector<std::string>& services) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& name : services) {
    const auto* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      auto metrics = std::make_unique<MethodMetrics>();
      metrics->service = service->name();
      metrics->method = method->name();
      metrics->streaming = method->client_streaming() || method->server_streaming();
      by_path_["/" + service->full_name() + "/" + method->name()] = metrics.get();
      methods_.push_back(std::move(metrics));
    }
  }
}

MethodMetrics* RpcMetrics::Find(std::string_view path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

grpc::experimental::Interceptor* RpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  MethodMetrics* metrics = info->method() == nullptr ? nullptr : metrics_.Find(info->method());
  if (metrics == nullptr) return nullptr;  // gRPC then runs the call without this interceptor
  return new RpcMetricsInterceptor(*metrics);
}

}  // namespace lattice::kernel::metrics
