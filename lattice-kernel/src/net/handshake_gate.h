// The listening side common to both transports: each new connection's handshake runs on a
// thread of its own, within handshake_timeout, and at most max_pending_handshakes run at
// once; a connection over that cap is closed at once. A handshake that succeeds becomes a
// Link handed to ListenHandlers::on_link.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "net/byte_stream.h"
#include "net/link_registry.h"
#include "net/stream_link.h"
#include "net/transport.h"

namespace lattice::kernel::net {

// Thread-safe. Owned by a Listener.
class HandshakeGate {
 public:
  HandshakeGate(std::shared_ptr<const TransportConfig> config,
                std::shared_ptr<LinkRegistry> registry, ListenHandlers handlers);
  // Close().
  ~HandshakeGate();

  // Takes a new connection; `drop_outgoing` is the fault hook of its link (in-memory).
  void Offer(std::unique_ptr<ByteStream> stream, DropOutgoing drop_outgoing = {});

  // Refuses new connections, aborts the handshakes in progress and waits for their threads.
  // REQUIRES: not called from on_link or on_refused.
  void Close();

  size_t pending() const;

 private:
  struct Pending {
    std::thread thread;
    ByteStream* stream = nullptr;  // while its handshake runs; guarded by mu_
    bool done = false;
  };

  void Run(Pending* pending, std::unique_ptr<ByteStream> stream,
           DropOutgoing drop_outgoing);
  void Refuse(const std::string& remote_address, const absl::Status& reason);
  // Moves finished entries out, to be joined without the lock.
  std::list<Pending> TakeDoneLocked();

  std::shared_ptr<const TransportConfig> config_;
  std::shared_ptr<LinkRegistry> registry_;
  ListenHandlers handlers_;
  mutable std::mutex mu_;
  std::list<Pending> pending_;
  size_t running_ = 0;
  bool closed_ = false;
};

}  // namespace lattice::kernel::net
