// Exchange and Stream handles.
#include "src/http/exchange_impl.h"

#include "src/http/problem.h"

namespace lattice::web::http {

ServerExchange::ServerExchange(std::shared_ptr<Connection> connection, Request request,
                               AnswerContext context)
    : connection_(std::move(connection)), request_(std::move(request)), context_(context) {}

ServerExchange::~ServerExchange() {
  if (!answered_.exchange(true)) {
    connection_->PostResponse(Problem(500, "the server dropped the request without answering"),
                              context_);
  }
}

void ServerExchange::Respond(Response response) {
  if (answered_.exchange(true)) return;
  connection_->PostResponse(std::move(response), context_);
}

std::shared_ptr<Stream> ServerExchange::StartStream(Response head) {
  auto state = std::make_shared<StreamState>();
  auto stream = std::make_shared<ServerStream>(connection_, state);
  if (answered_.exchange(true)) {
    state->NotifyClosed();
    return stream;
  }
  connection_->PostStreamHead(std::move(head), std::move(state));
  return stream;
}

ServerStream::ServerStream(std::shared_ptr<Connection> connection,
                           std::shared_ptr<StreamState> state)
    : connection_(std::move(connection)), state_(std::move(state)) {}

bool ServerStream::Write(std::string bytes) {
  bool overflow = false;
  if (!state_->Reserve(bytes.size(), connection_->max_stream_buffer_bytes(), &overflow)) {
    if (overflow) connection_->PostStreamEnd(/*abort=*/true);
    return false;
  }
  if (bytes.empty()) return true;
  connection_->PostStreamBytes(std::move(bytes));
  return true;
}

void ServerStream::Close() {
  if (state_->MarkClosed()) connection_->PostStreamEnd(/*abort=*/false);
}

void ServerStream::OnClosed(std::function<void()> callback) {
  state_->OnClosed(std::move(callback));
}

size_t ServerStream::buffered_bytes() const { return state_->buffered(); }

}  // namespace lattice::web::http
