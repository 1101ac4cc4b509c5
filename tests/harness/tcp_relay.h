// A fault-injecting TCP relay between the kernels of a multi-node test. Each node advertises
// an address of the relay (`--advertise`), which forwards to the node's real listen
// address; every kernel dials from its own loopback IP (`--listen IP:PORT`), so the relay
// knows which node dialed by the source IP and applies faults per ordered pair of nodes:
// cut and heal a pair, drop the next N frames of one direction, delay one direction, and
// count the bytes each direction carried.
//
// It understands just enough of the peer link (net/handshake.h) to drop whole frames: each
// direction starts with a cleartext preamble (38-byte hello, 24-byte secretstream header),
// then carries frames `u32 big-endian length | ciphertext`. Dropping an encrypted frame
// breaks the authenticated stream, so the receiving kernel closes the link: that is the
// "lost frames" fault.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "harness/loopback.h"
#include "net/frame_cipher.h"
#include "net/handshake.h"

namespace lattice::testing {

// Cleartext bytes at the start of each direction of a peer link, before its first frame.
inline constexpr size_t kLinkPreambleBytes =
    kernel::net::kHelloBytes + kernel::net::kStreamHeaderBytes;

struct TcpRelayOptions {
  // Bytes at the start of each direction that are passed on without looking for frames.
  size_t preamble_bytes = kLinkPreambleBytes;
  // Bytes held for one direction of one connection (read, not yet written). When they are
  // reached the relay stops reading from that sender until the receiver takes some, so a
  // stalled or delayed receiver pushes back on the sender instead of growing memory.
  size_t max_buffered_bytes = 256 * 1024;
  // Connections open at once; more are reset as soon as they are accepted.
  size_t max_connections = 512;
};

// Thread-safety: every public method may be called from any thread but the relay's own
// (one poll() loop that owns every socket); each call runs on that loop and returns once it
// took effect (a Cut has closed the connections it cut when it returns).
class TcpRelay {
 public:
  // The dialer of a connection whose source IP belongs to no node.
  static constexpr int kUnknownNode = -1;

  // Starts the loop thread. INTERNAL when the system refuses an eventfd or a thread.
  static absl::StatusOr<std::unique_ptr<TcpRelay>> Create(TcpRelayOptions options = {});
  // Stops the loop and closes every socket (connections are reset).
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  // Registers node `node` (>= 0): it dials from `source_ip`; connections to it arrive at
  // `listen` (port 0 picks a free one) and are forwarded to `target`, from the dialer's own
  // IP when the dialer is a node (so the target sees its real peer address). Returns the address
  // actually listened on (the one the node advertises). Every address must be numeric IPv4
  // in 127.0.0.0/8. ALREADY_EXISTS for a node or source IP registered before.
  absl::StatusOr<HostPort> AddNode(int node, const std::string& source_ip, const HostPort& listen,
                                   const HostPort& target);
  // Forwards new connections to `node` to `target` from now on (a restarted node that
  // listens on another port). NOT_FOUND for an unknown node.
  absl::Status SetTarget(int node, const HostPort& target);

  // Resets every connection between `a` and `b` (whoever dialed) and resets new ones as soon
  // as they are accepted, until Heal(a, b).
  void Cut(int a, int b);
  void Heal(int a, int b);
  // The next `count` whole frames sent from `from` to `to`, on whichever of their connections
  // they come, are not passed on (in addition to drops still pending). Frames are counted
  // after each direction's preamble, so handshake frames count too.
  void DropNextFrames(int from, int to, uint64_t count);
  // Bytes from `from` to `to` are passed on `delay` after the relay read them (order is kept;
  // zero removes the delay for bytes read from now on).
  void SetDelay(int from, int to, std::chrono::milliseconds delay);

  // Bytes passed on from `from` to `to` (written to `to`'s side) over every connection of the
  // pair, since creation or ResetCounters().
  uint64_t BytesSent(int from, int to);
  // Frames from `from` to `to` the relay has started dropping (DropNextFrames).
  uint64_t FramesDropped(int from, int to);
  // Records the bytes passed on from `from` to `to` from now on, exactly as they crossed the
  // wire, up to `max_bytes` (what someone tapping the link would see).
  void StartCapture(int from, int to, size_t max_bytes);
  std::string Captured(int from, int to);
  // Zeroes the byte and frame counters of every pair; faults stay as they are.
  void ResetCounters();
  // Live connections between `a` and `b`, whoever dialed.
  size_t Connections(int a, int b);

 private:
  class Loop;
  explicit TcpRelay(std::unique_ptr<Loop> loop);

  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace lattice::testing
