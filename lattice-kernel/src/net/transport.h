// The peer transport as the kernel sees it: a Transport listens on an address and dials
// addresses, and every connection becomes a Link only after the handshake (handshake.h) has
// authenticated both nodes and set up encryption. Implementations: TcpTransport
// (tcp_transport.h) and InMemoryTransport (memory_transport.h), which carries the same
// encrypted bytes through in-process pipes for multi-node unit tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/common/crypto.h"
#include "net/handshake.h"
#include "net/invite_proof.h"
#include "net/link_limits.h"

namespace lattice::kernel::net {

struct LinkStats {
  uint64_t bytes_sent = 0;       // on the wire, framing and encryption included
  uint64_t bytes_received = 0;
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t frames_dropped = 0;   // discarded by fault injection (in-memory transport)
};

// An authenticated, encrypted link to one peer node, carrying opaque payloads (the kernel's
// serialized protobuf messages) in order. Thread-safe: every method may be called from any
// thread. Received payloads and the close are delivered on the link's own reader thread.
//
// Close reasons (close_reason(), Handler::on_close), by code:
//   CANCELLED            closed on this side (Close, or the Link was released)
//   UNAVAILABLE          the peer closed the link (its reason in the message) or the
//                        connection broke
//   DEADLINE_EXCEEDED    the peer accepted none of our bytes for write_stall_timeout
//   DATA_LOSS            a frame failed authentication (tampered, or not from this session)
//   RESOURCE_EXHAUSTED   a frame's length exceeded kMaxFramePayloadBytes
//   INVALID_ARGUMENT     the peer kept sending invalid messages (ReportInvalid)
// IsMisbehaviour() tells the last three apart: the kernel logs them and backs off the peer.
class Link {
 public:
  struct Handler {
    // Each received payload, in order, one at a time.
    std::function<void(std::string payload)> on_payload;
    // Once, after the last on_payload, with the reason the link closed. Not called when the
    // link closed because the Link object was released.
    std::function<void(const absl::Status& reason)> on_close;
  };

  // Releasing the last reference closes the link (CANCELLED, "link released"). It does not
  // wait: a callback already running on the link's thread may still finish, and the link's
  // threads end within close_flush_timeout; the Transport's destructor waits for them.
  virtual ~Link() = default;

  // The peer's authenticated node id (32 raw bytes).
  virtual const std::string& peer_id() const = 0;
  // The invite the dialer joined with and the listener admitted, or "".
  virtual const std::string& invite_id() const = 0;
  // The peer's address as seen by this side ("127.0.0.1:40123", an in-memory name).
  virtual const std::string& remote_address() const = 0;
  // True for the side that dialed.
  virtual bool dialed() const = 0;

  // Starts delivering received payloads to `handler`. Until then nothing is read (the peer
  // is slowed by flow control). REQUIRES: called once.
  virtual void Start(Handler handler) = 0;

  // Queues `payload` (at most kMaxFramePayloadBytes) to be sent. When the send queue is full,
  // waits up to `max_wait` for room, then returns RESOURCE_EXHAUSTED: a slow peer never
  // blocks a sender for longer. UNAVAILABLE once the link is closed.
  virtual absl::Status Send(std::string payload,
                            std::chrono::milliseconds max_wait = std::chrono::milliseconds(0)) = 0;

  // Records that the peer sent something invalid (say, a forged signature); after
  // max_invalid_reports of them the link closes with INVALID_ARGUMENT naming the last one.
  virtual void ReportInvalid(std::string_view what) = 0;

  // Closes the link (idempotent): queued payloads are dropped and the peer is sent `reason`.
  virtual void Close(std::string_view reason) = 0;

  virtual bool open() const = 0;
  // OK while the link is open.
  virtual absl::Status close_reason() const = 0;
  virtual LinkStats stats() const = 0;
};

// True for close reasons that blame the peer (see Link).
bool IsMisbehaviour(const absl::Status& reason);

// A listening endpoint. Releasing it stops accepting and aborts handshakes in progress;
// established links stay open.
class Listener {
 public:
  virtual ~Listener() = default;
  // The address peers can dial (for TCP, with the real port when listening on port 0).
  virtual const std::string& address() const = 0;
};

struct ListenHandlers {
  // Each accepted, authenticated and admitted link, on the thread that ran its handshake.
  // The receiver calls Start on it.
  std::function<void(std::shared_ptr<Link> link)> on_link;
  // Each connection that did not become a link, with its address and the reason (a
  // refusal, a failed handshake, a handshake deadline, too many pending handshakes).
  // Optional; for logs.
  std::function<void(const std::string& remote_address, const absl::Status& reason)> on_refused;
};

struct TransportConfig {
  const KeyPair* identity = nullptr;  // this node's key; not owned, outlives the transport
  AdmitPeerFn admit;                  // the listener's admission rule; empty refuses all
  LinkLimits limits;
  // TCP: dial from this numeric IP of the host ("" lets the OS choose).
  std::string source_ip;
};

struct DialRequest {
  std::string address;                      // "HOST:PORT" for TCP, a name in memory
  std::string expected_node_id;             // 32 raw bytes: the node meant to answer
  std::optional<InviteCredential> invite;   // when joining a mesh with an invite
};

// Thread-safe. Its destructor closes every link it made and waits for their threads; it
// must not run on a link's thread (in a callback).
class Transport {
 public:
  virtual ~Transport() = default;

  // Listens on `address`; each admitted peer is handed to `handlers.on_link`.
  virtual absl::StatusOr<std::unique_ptr<Listener>> Listen(const std::string& address,
                                                           ListenHandlers handlers) = 0;

  // Connects and runs the handshake, within limits.handshake_timeout. Errors: UNAVAILABLE
  // (nobody answers), DEADLINE_EXCEEDED, FAILED_PRECONDITION (a node other than the
  // expected one answered), the listener's refusal (PERMISSION_DENIED or what its admission
  // rule returned), INVALID_ARGUMENT (a malformed request or a peer that is not Lattice).
  virtual absl::StatusOr<std::shared_ptr<Link>> Dial(const DialRequest& request) = 0;
};

}  // namespace lattice::kernel::net
