// Fuzzes the Store Protocol's request handling end to end: a real node and server on a Unix
// socket in a temporary directory, and arbitrary bytes sent as the request of a method the
// first input byte picks, with the admin cookie or with a narrow service token.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "lattice/common/crypto.h"
#include "lattice/common/files.h"
#include "lattice/common/ids.h"
#include "lattice/common/paths.h"
#include "node/node.h"
#include "rpc/server.h"

namespace {

using namespace lattice;
using namespace lattice::kernel;

const std::vector<std::string> kMethods = {
    "/lattice.v1.Controller/Connect",  "/lattice.v1.Controller/OpenStore",
    "/lattice.v1.Kv/Get",              "/lattice.v1.Kv/Put",
    "/lattice.v1.Kv/Delete",           "/lattice.v1.Kv/Batch",
    "/lattice.v1.Kv/Inspect",          "/lattice.v1.Chat/Post",
    "/lattice.v1.Chat/Reply",          "/lattice.v1.Chat/React",
    "/lattice.v1.Chat/SetTopic",       "/lattice.v1.Chat/GetTopic",
    "/lattice.v1.Chat/History",        "/lattice.v1.Chat/ListChannels",
    "/lattice.v1.Admin/Status",        "/lattice.v1.Admin/CreateStore",
    "/lattice.v1.Admin/ListStores",    "/lattice.v1.Admin/ArchiveStore",
    "/lattice.v1.Admin/UnarchiveStore", "/lattice.v1.Admin/CreateToken",
    "/lattice.v1.Admin/ListTokens",    "/lattice.v1.Admin/RevokeToken",
    "/lattice.v1.Admin/VerifyStore",   "/lattice.v1.Admin/Ingest",
    "/lattice.v1.Admin/Forks",
};

struct Harness {
  std::string dir;
  std::unique_ptr<Node> node;
  std::unique_ptr<StoreProtocolServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::string cookie;
  std::string token;

  Harness() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lattice-fuzz-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    auto opened = Node::Open({dir + "/data", "fuzz", 0});
    if (!opened.ok()) std::abort();
    node = *std::move(opened);
    (void)node->CreateStore("kvstore", StoreType::kKv, node->own_mesh_id());
    (void)node->CreateStore("chatstore", StoreType::kChat, node->own_mesh_id());
    std::string socket = dir + "/k.sock";
    auto started = StoreProtocolServer::Start(*node, socket);
    if (!started.ok()) std::abort();
    server = *std::move(started);
    cookie = *ReadFile(CookiePathForSocket(socket));
    cookie.pop_back();
    auto kv = node->Resolve("kvstore");
    if (!kv.ok()) std::abort();
    auto created = node->tokens().Create("fuzz", {FormatStoreId(kv->id)}, {"/a/"}, {"read"}, 0, 0);
    token = created.ok() ? created->secret : "";
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    channel = grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
    stub = std::make_unique<grpc::GenericStub>(channel);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  if (size < 1) return 0;
  const std::string& method = kMethods[data[0] % kMethods.size()];
  // Every created store holds a database and a writer thread; bound what a run can make.
  if (method == "/lattice.v1.Admin/CreateStore" && harness->node->ListStores(true).size() > 40) {
    return 0;
  }
  grpc::Slice slice(data + 1, size - 1);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  bool as_admin = (data[0] / kMethods.size()) % 2 == 0;
  context.AddMetadata("authorization", "Bearer " + (as_admin ? harness->cookie : harness->token));
  std::promise<grpc::Status> done;
  harness->stub->UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                           [&](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  // The kernel must answer every request; it may refuse, but never hang or drop the call.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
      status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::abort();
  }
  return 0;
}
