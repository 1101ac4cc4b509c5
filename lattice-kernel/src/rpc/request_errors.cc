#include "rpc/request_errors.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <string>

#include "lattice/common/limits.h"
#include "lattice/common/quote.h"

namespace lattice::kernel {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Protobuf says which string field held invalid UTF-8 only in a log line, written on the
// thread that parsed; the interceptor runs next on that thread and picks it up.
thread_local std::string last_parse_problem;

void LogProtobuf(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  constexpr std::string_view kUtf8 = "contains invalid UTF-8";
  if (message.find(kUtf8) != std::string::npos) {
    size_t open = message.find('\'');
    size_t close = open == std::string::npos ? open : message.find('\'', open + 1);
    if (close != std::string::npos) {
      last_parse_problem = fmt::format("string field {} holds bytes that are not UTF-8",
                                       message.substr(open + 1, close - open - 1));
      // A client that sent it is told; the log need not repeat it for every such request.
      spdlog::debug("protobuf {}:{}: {}", file, line, message);
      return;
    }
  }
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    spdlog::error("protobuf {}:{}: {}", file, line, message);
  } else {
    spdlog::warn("protobuf {}:{}: {}", file, line, message);
  }
}

// "the request of Kv.Put is not a valid lattice.v1.PutRequest: <problem>"
std::string UnparsedRequestMessage(const std::string& method) {
  // "/lattice.v1.Kv/Put" -> "lattice.v1.Kv.Put"
  std::string full_name = method.size() > 1 ? method.substr(1) : method;
  std::replace(full_name.begin(), full_name.end(), '/', '.');
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name);
  std::string type = descriptor != nullptr ? descriptor->input_type()->full_name() : "request";
  std::string call = descriptor != nullptr
                         ? descriptor->service()->name() + "." + descriptor->name()
                         : Quote(method);
  std::string problem = last_parse_problem;
  if (problem.empty()) {
    problem = "its bytes are not protobuf encoding (truncated, or a field of the wrong wire type)";
  }
  return fmt::format("the request of {} is not a valid {}: {}", call, type, problem);
}

class RequestErrorsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestErrorsInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (methods->GetRecvMessage() == nullptr) unparsed_message_ = UnparsedRequestMessage(method_);
      // Whatever else was parsed on this thread says nothing about the next request.
      last_parse_problem.clear();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (!unparsed_message_.empty()) {
        methods->ModifySendStatus(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, unparsed_message_));
      } else if (status.error_message().size() > limits::kMaxStatusMessageBytes) {
        std::string message = status.error_message().substr(0, limits::kMaxStatusMessageBytes);
        methods->ModifySendStatus(grpc::Status(status.error_code(), message + "…"));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  std::string unparsed_message_;
};

}  // namespace

RequestErrorsInterceptorFactory::RequestErrorsInterceptorFactory() {
  static std::once_flag installed;
  std::call_once(installed, [] { google::protobuf::SetLogHandler(&LogProtobuf); });
}

grpc::experimental::Interceptor* RequestErrorsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestErrorsInterceptor(info);
}

}  // namespace lattice::kernel
