// Fuzzes the Store Protocol's request handling end to end: a real node, replicator (on an
// in-memory network, so no byte leaves the process), ServiceManager and server on a Unix
// socket in a temporary directory, and arbitrary bytes sent as the request of a method the
// first input byte picks, with the admin cookie or with a narrow service token. Every method
// of every service in store_protocol.proto and fs_service.proto is a target, unary and
// streaming alike (rpc_fuzz_methods.h). With LATTICE_FUZZ_REPORT set in the environment, a
// run ends by listing each method with how often it was called and answered OK.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
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
#include "lattice/v1/fs_service.pb.h"
#include "lattice/v1/store_protocol.pb.h"
#include "net/memory_transport.h"
#include "node/node.h"
#include "replication/replicator.h"
#include "rpc/server.h"
#include "rpc_fuzz_methods.h"
#include "services/service_manager.h"

namespace {

using namespace lattice;
using namespace lattice::kernel;

// Calls that wait for something of their own (a peer, a sync) are told to give up soon,
// so one input never holds a run for long.
constexpr uint64_t kMaxRequestTimeoutMs = 200;
// A stream is read for this many responses, each awaited this long, then cancelled.
constexpr int kStreamResponsesRead = 3;
constexpr auto kStreamReadWait = std::chrono::milliseconds(300);

using Method = lattice::fuzz::FuzzedMethod;

// `bytes` with every timeout_ms field clamped, when they parse as the method's request; as
// they are otherwise (the kernel must refuse those).
std::string ClampTimeouts(const Method& method, const std::string& bytes) {
  const auto* field = method.request->FindFieldByName("timeout_ms");
  if (field == nullptr) return bytes;
  std::unique_ptr<google::protobuf::Message> request(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method.request)->New());
  if (!request->ParseFromString(bytes)) return bytes;
  const auto* reflection = request->GetReflection();
  uint64_t timeout = reflection->GetUInt64(*request, field);
  reflection->SetUInt64(request.get(), field,
                        timeout == 0 ? kMaxRequestTimeoutMs : std::min(timeout, kMaxRequestTimeoutMs));
  return request->SerializeAsString();
}

// Calls and OK answers per method, printed at exit when LATTICE_FUZZ_REPORT is set: which
// methods a run reached, and which it got past their checks.
struct Report {
  std::vector<std::string> paths;
  std::vector<uint64_t> calls;
  std::vector<uint64_t> answered_ok;
};
Report* report_at_exit = nullptr;

void PrintReport() {
  size_t called = 0;
  size_t past_checks = 0;
  for (size_t i = 0; i < report_at_exit->paths.size(); ++i) {
    called += report_at_exit->calls[i] > 0;
    past_checks += report_at_exit->answered_ok[i] > 0;
    std::fprintf(stderr, "%-42s calls %8llu ok %8llu\n", report_at_exit->paths[i].c_str(),
                 static_cast<unsigned long long>(report_at_exit->calls[i]),
                 static_cast<unsigned long long>(report_at_exit->answered_ok[i]));
  }
  std::fprintf(stderr, "methods called: %zu of %zu; answered OK at least once: %zu\n", called,
               report_at_exit->paths.size(), past_checks);
}

void StartReport(const std::vector<Method>& methods) {
  if (std::getenv("LATTICE_FUZZ_REPORT") == nullptr) return;
  report_at_exit = new Report;
  for (const auto& method : methods) report_at_exit->paths.push_back(method.path);
  report_at_exit->calls.resize(methods.size());
  report_at_exit->answered_ok.resize(methods.size());
  std::atexit(PrintReport);
}

struct Harness {
  std::string dir;
  std::shared_ptr<net::InMemoryNetwork> network = net::InMemoryNetwork::Create();
  std::unique_ptr<Node> node;
  std::unique_ptr<replication::Replicator> replicator;
  std::unique_ptr<StoreProtocolServer> server;
  std::unique_ptr<ServiceManager> services;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::vector<Method> methods = lattice::fuzz::StoreProtocolMethods();
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
    (void)node->CreateStore("fsstore", StoreType::kFs, node->own_mesh_id());
    replication::ReplicatorOptions replication_options;
    replication_options.listen_address = "fuzz:7470";
    auto network_ref = network;
    auto started_replicator = replication::Replicator::Start(
        *node, replication_options, [network_ref](net::TransportConfig config) {
          return network_ref->CreateTransport("fuzz", std::move(config));
        });
    if (!started_replicator.ok()) std::abort();
    replicator = *std::move(started_replicator);
    std::string socket = dir + "/k.sock";
    auto started = StoreProtocolServer::Start(*node, socket, replicator.get());
    if (!started.ok()) std::abort();
    server = *std::move(started);
    // Real descriptors, but an empty binary directory: no daemon can ever be started.
    std::filesystem::create_directories(dir + "/bin");
    ServiceManagerOptions service_options;
    service_options.services_dirs = {LATTICE_SOURCE_DIR "/deploy/services"};
    service_options.bin_dir = dir + "/bin";
    service_options.socket_path = socket;
    auto started_services = ServiceManager::Start(*node, service_options);
    if (!started_services.ok()) std::abort();
    services = *std::move(started_services);
    server->SetServiceManager(services.get());
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
    StartReport(methods);
  }
};

grpc::Status CallUnary(grpc::GenericStub& stub, grpc::ClientContext& context,
                       const std::string& path, grpc::ByteBuffer& request) {
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { done.set_value(status); });
  return done.get_future().get();
}

// Sends the request and reads a few responses, then cancels: a watch never ends by itself,
// and one that has nothing to send after its first page is cancelled once kStreamReadWait
// passes without a response. Returns the final status; CANCELLED for a stream still open.
grpc::Status CallStreaming(grpc::GenericStub& stub, grpc::ClientContext& context,
                           const std::string& path, grpc::ByteBuffer& request) {
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, path, &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](auto start) {
    start();
    return cq.Next(&tag, &ok) && ok;
  };
  bool open = step([&] { call->StartCall(nullptr); }) &&
              step([&] { call->Write(request, nullptr); }) &&
              step([&] { call->WritesDone(nullptr); });
  grpc::ByteBuffer response;
  for (int i = 0; open && i < kStreamResponsesRead; ++i) {
    call->Read(&response, nullptr);
    auto next = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kStreamReadWait);
    if (next == grpc::CompletionQueue::GOT_EVENT) {
      open = ok;
      continue;
    }
    context.TryCancel();
    cq.Next(&tag, &ok);  // the read ends once the call is cancelled
    open = false;
  }
  if (open) context.TryCancel();
  grpc::Status status;
  step([&] { call->Finish(&status, nullptr); });
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  if (size < 1) return 0;
  lattice::fuzz::FuzzedCall call = lattice::fuzz::CallFor(data[0], harness->methods.size());
  const Method& method = harness->methods[call.method];
  // Every created store holds a database and a writer thread; bound what a run can make.
  if (method.path == "/lattice.v1.Admin/CreateStore" && harness->node->ListStores(true).size() > 40) {
    return 0;
  }
  std::string bytes =
      ClampTimeouts(method, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer request(&slice, 1);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization",
                      "Bearer " + (call.as_admin ? harness->cookie : harness->token));
  grpc::Status status = method.streaming
                            ? CallStreaming(*harness->stub, context, method.path, request)
                            : CallUnary(*harness->stub, context, method.path, request);
  if (report_at_exit != nullptr) {
    ++report_at_exit->calls[call.method];
    report_at_exit->answered_ok[call.method] += status.ok();
  }
  // The kernel must answer every request; it may refuse, but never hang or drop the call,
  // and a request it cannot parse is the caller's error, never an internal one.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
      status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
      (status.error_code() == grpc::StatusCode::INTERNAL && status.error_message().empty())) {
    std::fprintf(stderr, "%s answered %d: %s\n", method.path.c_str(),
                 static_cast<int>(status.error_code()), status.error_message().c_str());
    std::abort();
  }
  return 0;
}
