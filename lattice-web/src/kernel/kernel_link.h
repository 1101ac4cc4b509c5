// lattice-web's one channel to the kernel's socket. Every call carries the bearer token of
// the HTTP request it serves, so the kernel stays the one judge of every right. Calls use
// gRPC's callback API: no thread waits for the kernel, whatever the number of requests or
// live event streams in flight.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::web {

class KernelLink {
 public:
  explicit KernelLink(std::string socket_path,
                      std::chrono::milliseconds deadline = std::chrono::seconds(30));

  const std::string& socket_path() const { return socket_path_; }

  v1::Controller::Stub& controller() { return *controller_; }
  v1::Kv::Stub& kv() { return *kv_; }
  v1::Chat::Stub& chat() { return *chat_; }
  v1::Admin::Stub& admin() { return *admin_; }

  // A context for one call made on behalf of `token` (an empty token sends none: the kernel
  // answers UNAUTHENTICATED). Unary calls get the link's deadline; streams get none.
  std::unique_ptr<grpc::ClientContext> NewContext(const std::string& token, bool unary) const;

  // Runs one unary call through a stub's callback interface; `done` receives the status and
  // the response on a gRPC thread.
  //   link.Call(link.kv().async(), &v1::Kv::Stub::async::Get, token, request,
  //             [](grpc::Status status, v1::GetResponse response) { ... });
  template <typename Async, typename Request, typename Response>
  void Call(Async* async,
            void (Async::*method)(grpc::ClientContext*, const Request*, Response*,
                                  std::function<void(grpc::Status)>),
            const std::string& token, std::type_identity_t<Request> request,
            std::type_identity_t<std::function<void(grpc::Status, Response)>> done) {
    struct Pending {
      std::unique_ptr<grpc::ClientContext> context;
      Request request;
      Response response;
    };
    auto pending = std::make_shared<Pending>();
    pending->context = NewContext(token, true);
    pending->request = std::move(request);
    (async->*method)(pending->context.get(), &pending->request, &pending->response,
                     [pending, done = std::move(done)](grpc::Status status) {
                       done(std::move(status), std::move(pending->response));
                     });
  }

 private:
  std::string socket_path_;
  std::chrono::milliseconds deadline_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Controller::Stub> controller_;
  std::unique_ptr<v1::Kv::Stub> kv_;
  std::unique_ptr<v1::Chat::Stub> chat_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

}  // namespace lattice::web
