// Which call an input of the RPC request fuzzer (rpc_requests_fuzz.cc) makes: one method of
// the Store Protocol, picked by the input's first byte with the credential it is made with.
// The methods are read from the generated descriptors of store_protocol.proto and
// fs_service.proto, so a method added later is fuzzed too; a unit test
// (tests/unit/rpc/rpc_fuzzer_reach_test.cc) checks that every method the .proto files
// declare is reachable both ways.
#pragma once

#include <google/protobuf/descriptor.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lattice::fuzz {

struct FuzzedMethod {
  std::string path;  // "/lattice.v1.Kv/Scan"
  const google::protobuf::Descriptor* request = nullptr;
  bool streaming = false;
};

// Every method of every service of store_protocol.proto and fs_service.proto, in
// declaration order (seed inputs name theirs by position).
std::vector<FuzzedMethod> StoreProtocolMethods();

struct FuzzedCall {
  size_t method = 0;     // index into StoreProtocolMethods()
  bool as_admin = true;  // with the admin cookie, or else with a narrow service token
};

// The call an input whose first byte is `selector` makes, among `method_count` methods.
// Every method is reached both ways while 2 * method_count <= 256.
FuzzedCall CallFor(uint8_t selector, size_t method_count);

}  // namespace lattice::fuzz
