// What a client is told when its request cannot be served as sent: a request whose bytes do
// not parse gets INVALID_ARGUMENT naming the message type and the problem, and no status
// message grows past limits::kMaxStatusMessageBytes.
//
// Left to itself gRPC answers an unparsable request with INTERNAL and an empty message on a
// synchronous method (its protobuf deserializer reports InitializationErrorString(), always
// empty in proto3) and with UNIMPLEMENTED on a callback method (its handler replaces any
// deserialization failure with that). The methods never run, so the answer is fixed here, in
// a server interceptor that sees the failed parse and rewrites the status about to be sent.
#pragma once

#include <grpcpp/support/server_interceptor.h>

namespace lattice::kernel {

class RequestErrorsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RequestErrorsInterceptorFactory();
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace lattice::kernel
