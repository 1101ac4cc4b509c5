// One client connection: reads requests one at a time, hands each to the handler, writes the
// answer, and enforces the per-connection limits and timeouts of ServerOptions.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/http/response.h"
#include "src/http/server_state.h"
#include "src/http/stream_state.h"

namespace lattice::web::http {

// How the answer to one request is framed.
struct AnswerContext {
  bool keep_alive = false;    // the client may send another request afterwards
  bool head_request = false;  // HEAD: no body on the wire
};

// Lives on its own strand: every private member is touched only there. The Post* methods may be
// called from any thread; they do nothing once the connection is closed. Kept alive by the
// asynchronous operations in flight and by the exchanges and streams that refer to it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `socket` runs on a strand of server->io. `over_limit`: the server already has
  // max_connections open; this one is answered 503 and closed. Otherwise the caller has
  // counted it in server->open_connections, and the connection gives its place back when it
  // closes.
  Connection(std::shared_ptr<ServerState> server, boost::asio::ip::tcp::socket socket,
             bool over_limit);
  ~Connection();

  void Start();
  // Closes at once, dropping anything unwritten (Server::Stop).
  void PostClose();
  void PostResponse(Response response, AnswerContext context);
  void PostStreamHead(Response head, std::shared_ptr<StreamState> state);
  void PostStreamBytes(std::string bytes);
  // abort: close now (the stream's buffer limit was hit); otherwise after what is queued.
  void PostStreamEnd(bool abort);
  bool closed() const { return closed_.load(); }
  size_t max_stream_buffer_bytes() const { return server_->options.max_stream_buffer_bytes; }

 private:
  enum class Phase {
    kWaitingForRequest,  // idle between requests, nothing of the next one received
    kReadingRequest,     // head or body of a request arriving
    kHandling,           // the handler has it; waiting for Respond or StartStream
    kWritingResponse,
    kStreaming,
    kLingering,  // our side shut down; draining what the client still sends before closing
    kClosed,
  };

  void WaitForRequest();
  // start_clock: the request_timeout runs from now (otherwise it already runs).
  void ReadHead(bool start_clock);
  void OnHead(boost::system::error_code ec);
  void ReadBody();
  void OnReadError(boost::system::error_code ec);
  void Dispatch();
  void WriteResponse(Response response, AnswerContext context);
  void RefuseAndClose(Response problem);
  void Linger();
  void DrainLingering();
  void StartStream(Response head, std::shared_ptr<StreamState> state);
  void QueueStreamBytes(std::string bytes, bool counted);
  void FlushStream();
  void WatchStreamClient();
  void EndStream(bool abort);
  void ArmTimer(std::chrono::milliseconds after);
  void CancelTimer();
  void OnTimeout();
  void Close();

  std::shared_ptr<ServerState> server_;  // first: outlives the socket and timer below
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  uint64_t id_;
  bool over_limit_;
  bool counted_;  // included in server_->open_connections
  std::atomic<bool> closed_{false};
  Phase phase_ = Phase::kWaitingForRequest;
  bool first_request_ = true;
  bool timed_out_ = false;
  uint64_t timer_generation_ = 0;
  boost::asio::ip::address peer_;

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string out_head_;  // the response being written
  std::string out_body_;
  std::unique_ptr<std::array<char, 4096>> drain_;  // only while lingering
  size_t drained_ = 0;

  // Streaming: bytes queued (and how many of them Write counted), bytes in flight.
  std::shared_ptr<StreamState> stream_;
  std::deque<std::string> pending_;
  std::deque<bool> pending_counted_;
  std::vector<std::string> in_flight_;
  size_t in_flight_counted_ = 0;
  bool writing_ = false;
  bool end_after_flush_ = false;
};

}  // namespace lattice::web::http
