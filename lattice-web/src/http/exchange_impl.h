// The server's Exchange and Stream: thin thread-safe handles that post onto their connection's
// strand.
#pragma once

#include <atomic>
#include <memory>

#include "src/http/connection.h"
#include "src/http/exchange.h"
#include "src/http/stream_state.h"

namespace lattice::web::http {

class ServerExchange : public Exchange {
 public:
  ServerExchange(std::shared_ptr<Connection> connection, Request request, AnswerContext context);
  // Answers 500 when the handler let go of the exchange without answering, so the client is not
  // left waiting.
  ~ServerExchange() override;

  const Request& request() const override { return request_; }
  void Respond(Response response) override;
  std::shared_ptr<Stream> StartStream(Response head) override;

 private:
  std::shared_ptr<Connection> connection_;
  Request request_;
  AnswerContext context_;
  std::atomic<bool> answered_{false};
};

class ServerStream : public Stream {
 public:
  ServerStream(std::shared_ptr<Connection> connection, std::shared_ptr<StreamState> state);

  bool Write(std::string bytes) override;
  void Close() override;
  void OnClosed(std::function<void()> callback) override;
  size_t buffered_bytes() const override;

 private:
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<StreamState> state_;
};

}  // namespace lattice::web::http
