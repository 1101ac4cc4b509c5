// The in-memory transport, for fast multi-node tests in one process: nodes of one
// InMemoryNetwork listen on and dial names instead of ports, through in-process pipes that
// carry the same handshake and encrypted frames as TCP (the same link code runs), with
// fault injection: lose the next N payloads, delay, cut and heal, count and tap the bytes.
// Nothing depends on a real network or port; each link keeps its order exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/byte_stream.h"
#include "net/stream_link.h"
#include "net/transport.h"

namespace lattice::kernel::net {

class HandshakeGate;
class MemoryPipe;

// Thread-safe. Transports made by a network may outlive it only if unused.
class InMemoryNetwork : public std::enable_shared_from_this<InMemoryNetwork> {
 public:
  // Sees every byte written on any link: (writer's node name, reader's node name, bytes).
  using Tap = std::function<void(const std::string& from, const std::string& to,
                                 std::string_view bytes)>;

  static std::shared_ptr<InMemoryNetwork> Create();

  // A transport for the node named `name` (unique in the network; the names fault
  // injection uses). Its Listen takes any address string not yet in use.
  // REQUIRES: config.identity is set and outlives the transport.
  std::unique_ptr<Transport> CreateTransport(const std::string& name, TransportConfig config);

  // Faults, by node name; `from` -> `to` is one direction.
  // The next `n` payloads `from` sends to `to` are lost (before encryption, as a lost
  // message; the link stays up).
  void DropNextPayloads(const std::string& from, const std::string& to, uint64_t n);
  // Every payload `from` sends to `to` for which `drop` answers true is lost, until the
  // filter is cleared by an empty one (a peer that answers some messages and not others).
  using PayloadFilter = std::function<bool(std::string_view payload)>;
  void DropPayloadsWhere(const std::string& from, const std::string& to, PayloadFilter drop);
  // Bytes from `from` to `to` arrive `delay` later, on existing and new links.
  void SetDelay(const std::string& from, const std::string& to, Clock::duration delay);
  // Breaks every link between `a` and `b` (both close with UNAVAILABLE), and dials between
  // them fail until Heal.
  void Cut(const std::string& a, const std::string& b);
  void Heal(const std::string& a, const std::string& b);
  // Wire bytes written from `from` to `to` so far, over every link between them.
  uint64_t BytesSent(const std::string& from, const std::string& to) const;
  void SetTap(Tap tap);

  // A bare connection to the listener at `address`, as node `from`, for tests that play a
  // broken or hostile dialer byte by byte; the listener runs its handshake as usual.
  absl::StatusOr<std::unique_ptr<ByteStream>> DialRaw(const std::string& from,
                                                      const std::string& address);

 private:
  friend class InMemoryTransport;
  friend class InMemoryListener;
  using Pair = std::pair<std::string, std::string>;
  struct Endpoint {
    std::string owner;  // node name of the listener
    std::weak_ptr<HandshakeGate> gate;
  };
  struct PipeEntry {
    std::string names[2];  // node names of side 0 (dialer) and side 1 (listener)
    std::shared_ptr<MemoryPipe> pipe;
  };
  struct Connection {
    std::unique_ptr<ByteStream> dialer_end;
    std::unique_ptr<ByteStream> listener_end;
    std::string listener_name;
    std::shared_ptr<HandshakeGate> gate;
  };

  InMemoryNetwork() = default;
  absl::Status Register(const std::string& address, const std::string& owner,
                        std::weak_ptr<HandshakeGate> gate);
  void Unregister(const std::string& address);
  absl::StatusOr<Connection> Connect(const std::string& dialer, const std::string& address);
  bool ShouldDrop(const std::string& from, const std::string& to, std::string_view payload);
  DropOutgoing DropHook(const std::string& from, const std::string& to);
  void CountBytes(const std::string& from, const std::string& to, size_t n,
                  std::string_view bytes);
  static Pair Unordered(const std::string& a, const std::string& b);

  mutable std::mutex mu_;
  std::map<std::string, Endpoint> endpoints_;
  std::vector<PipeEntry> pipes_;
  std::map<Pair, uint64_t> drops_;
  std::map<Pair, PayloadFilter> filters_;
  std::map<Pair, Clock::duration> delays_;
  std::set<Pair> cuts_;
  std::map<Pair, uint64_t> bytes_;
  Tap tap_;
};

}  // namespace lattice::kernel::net
