#include "rpc_fuzz_methods.h"

#include "lattice/v1/fs_service.pb.h"
#include "lattice/v1/store_protocol.pb.h"

namespace lattice::fuzz {

std::vector<FuzzedMethod> StoreProtocolMethods() {
  // Referencing a generated message links in its file's descriptors.
  std::vector<FuzzedMethod> methods;
  for (const auto* file : {lattice::v1::GetRequest::descriptor()->file(),
                           lattice::v1::FsLookupRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const auto* method = service->method(m);
        methods.push_back({"/" + service->full_name() + "/" + method->name(),
                           method->input_type(), method->server_streaming()});
      }
    }
  }
  return methods;
}

FuzzedCall CallFor(uint8_t selector, size_t method_count) {
  return {selector % method_count, (selector / method_count) % 2 == 0};
}

}  // namespace lattice::fuzz
