#include "etcd_server.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "etcd/etcd_kv.grpc.pb.h"

namespace lattice::bench {
namespace {

// etcd takes only host:port URLs, and listens for a unix:// one on a socket of that name in
// its working directory.
constexpr char kClientSocket[] = "localhost:2379";
constexpr char kPeerSocket[] = "localhost:2380";

}  // namespace

std::shared_ptr<grpc::Channel> EtcdChannel(const std::string& socket) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> StartEtcd(const std::string& binary,
                                                         const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string client_url = fmt::format("unix://{}", kClientSocket);
  const std::string peer_url = fmt::format("unix://{}", kPeerSocket);
  ServerOptions options;
  options.socket = dir + "/" + kClientSocket;
  options.working_dir = dir;
  options.log_path = dir + "/etcd.log";
  options.argv = {binary,
                  "--name", "bench",
                  "--data-dir", dir + "/data",
                  "--listen-client-urls", client_url,
                  "--advertise-client-urls", client_url,
                  "--listen-peer-urls", peer_url,
                  "--initial-advertise-peer-urls", peer_url,
                  "--initial-cluster", "bench=" + peer_url,
                  "--initial-cluster-state", "new",
                  // Every figure writes fresh keys; the default 2 GiB quota could end a
                  // long run with "database space exceeded".
                  "--quota-backend-bytes", std::to_string(8ull << 30),
                  "--logger", "zap", "--log-level", "warn"};
  std::string socket = options.socket;
  options.ready = [socket]() -> absl::Status {
    auto stub = etcdserverpb::KV::NewStub(EtcdChannel(socket));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    etcdserverpb::PutRequest request;
    request.set_key("bench/ready");
    request.set_value("1");
    etcdserverpb::PutResponse response;
    grpc::Status status = stub->Put(&context, request, &response);
    if (!status.ok()) return absl::UnavailableError("etcd put: " + status.error_message());
    return absl::OkStatus();
  };
  return ServerProcess::Start(options, /*check_status=*/false);
}

}  // namespace lattice::bench
