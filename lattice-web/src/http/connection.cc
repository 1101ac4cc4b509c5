// The per-connection state machine: wait → read head (→ 100 Continue) → read body → handler →
// write → wait again, or → stream → close. One timer bounds each phase.
#include "src/http/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "src/http/exchange_impl.h"
#include "src/http/problem.h"
#include "src/http/request_head.h"
#include "src/http/wire_format.h"

namespace lattice::web::http {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using boost::system::error_code;

// How long a closing connection drains what the client still sends, so that the client reads
// our last answer instead of a reset (RFC 9112 §9.6): a client that sent a body we refused
// (413 without "Expect: 100-continue") is still sending it. At most this long (and never longer
// than request_timeout), and at most this many bytes.
constexpr std::chrono::milliseconds kMaxLinger{5'000};
constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;
// A flat_buffer grown past this by a large request is released once empty, so an idle
// keep-alive or event-stream connection costs little memory.
constexpr size_t kIdleBufferBytes = 8 * 1024;

}  // namespace

Connection::Connection(std::shared_ptr<ServerState> server, asio::ip::tcp::socket socket,
                       bool over_limit)
    : server_(std::move(server)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      id_(server_->NextConnectionId()),
      over_limit_(over_limit),
      counted_(!over_limit) {}

// A connection dropped before it started (its Start never ran: the server stopped) still
// gives back its place.
Connection::~Connection() {
  if (counted_) server_->open_connections.fetch_sub(1);
}

void Connection::Start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->server_->Register(self->id_, self)) {
      self->Close();
      return;
    }
    error_code ec;
    auto endpoint = self->socket_.remote_endpoint(ec);
    if (ec) {
      self->Close();
      return;
    }
    self->peer_ = endpoint.address();
    self->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    if (self->over_limit_) {
      self->RefuseAndClose(Problem(503, fmt::format("the server is at its limit of {} connections; "
                                                    "try again later",
                                                    self->server_->options.max_connections)));
      return;
    }
    self->WaitForRequest();
  });
}

void Connection::PostClose() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Connection::PostResponse(Response response, AnswerContext context) {
  if (closed()) return;
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), response = std::move(response), context]() mutable {
               self->WriteResponse(std::move(response), context);
             });
}

void Connection::PostStreamHead(Response head, std::shared_ptr<StreamState> state) {
  if (closed()) {
    state->NotifyClosed();
    return;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this(), head = std::move(head),
                                      state = std::move(state)]() mutable {
    self->StartStream(std::move(head), std::move(state));
  });
}

void Connection::PostStreamBytes(std::string bytes) {
  if (closed()) return;
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
               self->QueueStreamBytes(std::move(bytes), true);
             });
}

void Connection::PostStreamEnd(bool abort) {
  if (closed()) return;
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), abort] { self->EndStream(abort); });
}

void Connection::WaitForRequest() {
  phase_ = Phase::kWaitingForRequest;
  parser_.emplace();
  parser_->header_limit(
      static_cast<uint32_t>(std::min<size_t>(server_->options.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(server_->options.max_body_bytes);
  if (buffer_.size() > 0) {  // a pipelined request is already here
    ReadHead(/*start_clock=*/true);
    return;
  }
  if (buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();
  // A new connection must send its whole request within request_timeout of connecting; a
  // kept-alive one may idle up to idle_timeout before the next request starts its clock.
  bool first = first_request_;
  first_request_ = false;
  ArmTimer(first ? server_->options.request_timeout : server_->options.idle_timeout);
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this(), first](error_code ec) {
                       if (self->phase_ != Phase::kWaitingForRequest) return;
                       if (ec) {
                         self->Close();
                         return;
                       }
                       self->ReadHead(/*start_clock=*/!first);
                     });
}

void Connection::ReadHead(bool start_clock) {
  phase_ = Phase::kReadingRequest;
  if (start_clock) ArmTimer(server_->options.request_timeout);
  beast_http::async_read_header(socket_, buffer_, *parser_,
                                [self = shared_from_this()](error_code ec, size_t) {
                                  if (ec) {
                                    self->OnReadError(ec);
                                    return;
                                  }
                                  self->OnHead(ec);
                                });
}

void Connection::OnHead(error_code) {
  if (phase_ != Phase::kReadingRequest) return;
  HeadVerdict verdict = CheckRequestHead(parser_->get().base(), !parser_->is_done());
  if (verdict.refusal) {
    RefuseAndClose(std::move(*verdict.refusal));
    return;
  }
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  if (!verdict.send_continue) {
    ReadBody();
    return;
  }
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](error_code ec, size_t) {
                      if (ec) {
                        self->OnReadError(ec);
                        return;
                      }
                      self->ReadBody();
                    });
}

void Connection::ReadBody() {
  if (phase_ != Phase::kReadingRequest) return;
  beast_http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, size_t) {
                           if (ec) {
                             self->OnReadError(ec);
                             return;
                           }
                           if (self->phase_ == Phase::kReadingRequest) self->Dispatch();
                         });
}

void Connection::OnReadError(error_code ec) {
  if (phase_ != Phase::kReadingRequest) return;
  const ServerOptions& options = server_->options;
  if (timed_out_) {
    RefuseAndClose(Problem(408, fmt::format("the request was not received within {} ms",
                                            options.request_timeout.count())));
    return;
  }
  if (ec == beast_http::error::header_limit) {
    RefuseAndClose(Problem(431, fmt::format("the request line and header fields exceed the "
                                            "limit of {} bytes",
                                            options.max_header_bytes)));
    return;
  }
  if (ec == beast_http::error::body_limit) {
    RefuseAndClose(Problem(413, fmt::format("the request body exceeds the limit of {} bytes",
                                            options.max_body_bytes)));
    return;
  }
  // The client went away, before or in the middle of a request: nobody to answer.
  if (ec == beast_http::error::end_of_stream || ec == beast_http::error::partial_message ||
      ec.category() != beast_http::make_error_code(beast_http::error::end_of_stream).category()) {
    Close();
    return;
  }
  RefuseAndClose(Problem(400, fmt::format("malformed request: {}", ec.message())));
}

void Connection::Dispatch() {
  CancelTimer();
  phase_ = Phase::kHandling;
  ParsedRequest& message = parser_->get();
  AnswerContext context;
  context.keep_alive = message.version() >= 11 && message.keep_alive() && !server_->stopping();
  context.head_request = message.method() == beast_http::verb::head;
  Request request = MakeRequest(parser_->release(), peer_, server_->proxies);
  parser_.reset();
  auto exchange = std::make_shared<ServerExchange>(shared_from_this(), std::move(request), context);
  try {
    server_->handler(exchange);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} failed: {}", exchange->request().method,
                  exchange->request().path, e.what());
    exchange->Respond(Problem(500, "the server failed to handle the request"));
  } catch (...) {
    spdlog::error("http: handler for {} {} failed", exchange->request().method,
                  exchange->request().path);
    exchange->Respond(Problem(500, "the server failed to handle the request"));
  }
}

void Connection::WriteResponse(Response response, AnswerContext context) {
  if (phase_ != Phase::kHandling) return;
  phase_ = Phase::kWritingResponse;
  server_->CountResponse(response.status);
  WireContext wire;
  wire.head_request = context.head_request;
  wire.close = !context.keep_alive || ResponseAsksToClose(response) || server_->stopping();
  out_head_ = SerializeResponseHead(response, wire);
  if (SendsBody(response, wire)) out_body_ = std::move(response.body);
  ArmTimer(server_->options.idle_timeout);  // a client that does not read its answer
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(out_head_), asio::buffer(out_body_)};
  asio::async_write(socket_, buffers,
                    [self = shared_from_this(), close = wire.close](error_code ec, size_t) {
                      if (self->phase_ != Phase::kWritingResponse) return;
                      self->out_head_ = std::string();
                      self->out_body_ = std::string();
                      if (ec) {
                        self->Close();
                      } else if (close) {
                        self->Linger();
                      } else {
                        self->WaitForRequest();
                      }
                    });
}

void Connection::RefuseAndClose(Response problem) {
  spdlog::debug("http: refusing a request from {} with {}", peer_.to_string(), problem.status);
  CancelTimer();
  parser_.reset();
  phase_ = Phase::kHandling;
  WriteResponse(std::move(problem), AnswerContext{});
}

void Connection::Linger() {
  phase_ = Phase::kLingering;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    Close();
    return;
  }
  ArmTimer(std::min(kMaxLinger, server_->options.request_timeout));
  drain_ = std::make_unique<std::array<char, 4096>>();
  drained_ = 0;
  DrainLingering();
}

void Connection::DrainLingering() {
  socket_.async_read_some(asio::buffer(*drain_),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            if (self->phase_ != Phase::kLingering) return;
                            self->drained_ += n;
                            if (ec || self->drained_ > kMaxLingerBytes) {
                              self->Close();
                              return;
                            }
                            self->DrainLingering();
                          });
}

void Connection::StartStream(Response head, std::shared_ptr<StreamState> state) {
  if (phase_ != Phase::kHandling) {
    state->NotifyClosed();
    return;
  }
  CancelTimer();
  phase_ = Phase::kStreaming;
  server_->CountResponse(head.status);
  stream_ = std::move(state);
  WireContext wire;
  wire.close = true;
  wire.streamed = true;
  QueueStreamBytes(SerializeResponse(head, wire), false);
  if (buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();
  WatchStreamClient();
}

void Connection::QueueStreamBytes(std::string bytes, bool counted) {
  if (phase_ != Phase::kStreaming) return;
  pending_.push_back(std::move(bytes));
  pending_counted_.push_back(counted);
  FlushStream();
}

void Connection::FlushStream() {
  if (writing_ || phase_ != Phase::kStreaming) return;
  if (pending_.empty()) {
    if (end_after_flush_) Linger();
    return;
  }
  writing_ = true;
  in_flight_counted_ = 0;
  std::vector<asio::const_buffer> buffers;
  while (!pending_.empty()) {
    if (pending_counted_.front()) in_flight_counted_ += pending_.front().size();
    in_flight_.push_back(std::move(pending_.front()));
    pending_.pop_front();
    pending_counted_.pop_front();
  }
  buffers.reserve(in_flight_.size());
  for (const std::string& bytes : in_flight_) buffers.push_back(asio::buffer(bytes));
  asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, size_t) {
    self->writing_ = false;
    self->in_flight_.clear();
    if (self->stream_) self->stream_->Release(self->in_flight_counted_);
    self->in_flight_counted_ = 0;
    if (self->phase_ != Phase::kStreaming) return;
    if (ec) {
      self->Close();
      return;
    }
    self->FlushStream();
  });
}

// A streaming client sends nothing more; the socket turning readable means it closed (or sent
// junk, which is discarded).
void Connection::WatchStreamClient() {
  socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
    if (self->phase_ != Phase::kStreaming) return;
    if (ec) {
      self->Close();
      return;
    }
    std::array<char, 1024> discard;
    size_t available = self->socket_.available(ec);
    if (ec || available == 0) {  // readable with nothing to read: end of stream
      self->Close();
      return;
    }
    self->socket_.read_some(asio::buffer(discard), ec);
    if (ec) {
      self->Close();
      return;
    }
    self->WatchStreamClient();
  });
}

void Connection::EndStream(bool abort) {
  if (phase_ != Phase::kStreaming) return;
  if (abort) {
    spdlog::info("http: dropping a client of {} that does not read its stream ({} bytes queued)",
                 peer_.to_string(), stream_ ? stream_->buffered() : 0);
    Close();
    return;
  }
  end_after_flush_ = true;
  FlushStream();
}

void Connection::ArmTimer(std::chrono::milliseconds after) {
  uint64_t generation = ++timer_generation_;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->timer_generation_) return;
    self->OnTimeout();
  });
}

void Connection::CancelTimer() {
  ++timer_generation_;
  timer_.cancel();
}

void Connection::OnTimeout() {
  switch (phase_) {
    case Phase::kReadingRequest: {
      // Cancelling the read lets its handler answer 408.
      timed_out_ = true;
      error_code ec;
      socket_.cancel(ec);
      return;
    }
    case Phase::kWaitingForRequest:
    case Phase::kWritingResponse:
    case Phase::kLingering:
      Close();
      return;
    case Phase::kHandling:
    case Phase::kStreaming:
    case Phase::kClosed:
      return;
  }
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  closed_ = true;
  CancelTimer();
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  // The parser, buffers and bytes in flight stay until the destructor: a cancelled read or
  // write may still touch them while it completes.
  pending_.clear();
  pending_counted_.clear();
  server_->Unregister(id_);
  if (counted_) {
    counted_ = false;
    server_->open_connections.fetch_sub(1);
  }
  if (stream_) stream_->NotifyClosed();
}

}  // namespace lattice::web::http
