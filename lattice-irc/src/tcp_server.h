// The TCP side of the gateway: a listening socket and non-blocking client connections on the
// event loop, each with flood control, a bounded send queue and line framing. It hands
// complete lines to the IrcServer and implements ClientTransport for it. A client that does
// not read never blocks the loop or other clients: its queue grows to
// limits::kMaxSendQueueBytes and it is then disconnected.
//
// Input is never dropped: a line is handed to the server when the client's flood gate allows
// it (the penalty, flood_gate.h) and the server is not waiting for the kernel on the client's
// behalf (HoldInput). Meanwhile its lines wait, and once limits::kReadPauseBytes of them wait
// the socket is not read any more, so TCP slows the client down. Only a client whose input
// not yet handled (read and waiting, plus unread in the socket) exceeds
// limits::kMaxRecvQueueBytes is disconnected, with an ERROR that says so. A closing
// connection sends its last lines and ERROR, shuts down its sending side and reads (and
// drops) what the client still sends until the client closes, so the ERROR is not lost to a
// reset.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "event_loop.h"
#include "flood_gate.h"
#include "limits.h"
#include "line_reader.h"
#include "transport.h"

namespace lattice::irc {

class IrcServer;

struct TcpServerOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 6667;                    // 0: any free port (see port())
  double flood_burst = limits::kFloodBurstLines;
  double flood_per_second = limits::kFloodLinesPerSecond;
  size_t max_send_queue = limits::kMaxSendQueueBytes;
  size_t max_recv_queue = limits::kMaxRecvQueueBytes;
  size_t read_pause = limits::kReadPauseBytes;
  size_t max_clients = limits::kMaxClients;
};

// Lives on the event loop thread.
class TcpServer final : public ClientTransport {
 public:
  static absl::StatusOr<std::unique_ptr<TcpServer>> Listen(EventLoop& loop,
                                                           const TcpServerOptions& options);
  ~TcpServer() override;

  // REQUIRES: called once, before the loop runs.
  void SetServer(IrcServer* server) { server_ = server; }
  uint16_t port() const { return port_; }

  void Send(ClientId id, std::string_view bytes) override;
  void Close(ClientId id, std::string_view reason) override;
  void HoldInput(ClientId id, bool hold) override;

  // Writes queued output, closes connections that are done, and tells the server about them.
  // Called by the loop after every round.
  void Flush();

  // Closes every connection with `reason` and stops accepting.
  void Shutdown(std::string_view reason);

  size_t connection_count() const { return connections_.size(); }

 private:
  struct Connection;
  TcpServer(EventLoop& loop, TcpServerOptions options, int listen_fd, uint16_t port);

  void OnAcceptable();
  void OnEvents(Connection& conn, uint32_t events);
  void ReadFrom(Connection& conn);
  void ProcessInput(Connection& conn);
  // Pauses or resumes reading from the socket, and disconnects a client whose input not
  // handled yet exceeds the bound.
  void CheckInput(Connection& conn);
  void WriteTo(Connection& conn);
  // Ends the connection now; the server hears of it in Flush().
  void Kill(Connection& conn, std::string reason);
  void UpdateInterest(Connection& conn);

  EventLoop& loop_;
  TcpServerOptions options_;
  int listen_fd_;
  uint16_t port_;
  IrcServer* server_ = nullptr;
  ClientId next_id_ = 1;
  std::unordered_map<ClientId, std::unique_ptr<Connection>> connections_;
  std::vector<ClientId> dirty_;  // connections with output to write or a close to finish
  std::vector<ClientId> resumed_;  // connections the server no longer holds
};

}  // namespace lattice::irc
