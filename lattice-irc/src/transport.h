// How the IRC server reaches its clients' sockets, so the protocol logic runs the same over
// real TCP connections (tcp_server.h) and in tests.
#pragma once

#include <cstdint>
#include <string_view>

namespace lattice::irc {

using ClientId = uint64_t;

class ClientTransport {
 public:
  virtual ~ClientTransport() = default;

  // Queues complete lines (with CR LF) for the client. A client whose queue exceeds
  // limits::kMaxSendQueueBytes is scheduled for disconnection. Never calls back into the
  // server synchronously.
  virtual void Send(ClientId id, std::string_view bytes) = 0;

  // Sends "ERROR :Closing link: (<reason>)" after what is queued, then closes. The server
  // learns of it through IrcServer::OnDisconnect, later, never from inside this call.
  virtual void Close(ClientId id, std::string_view reason) = 0;

  // The server waits for the kernel on behalf of the client (true) or no longer (false):
  // the transport should hand it no more lines meanwhile and stop reading its socket.
  // Lines handed anyway are held by the server. Never calls back into the server
  // synchronously.
  virtual void HoldInput(ClientId id, bool hold) {
    (void)id;
    (void)hold;
  }
};

}  // namespace lattice::irc
