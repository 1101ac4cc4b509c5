#include "net/memory_transport.h"

#include <algorithm>

#include "lattice/common/status.h"
#include "net/handshake_gate.h"
#include "net/handshake_runner.h"
#include "net/link_registry.h"
#include "net/memory_stream.h"
#include "net/stream_link.h"

namespace lattice::kernel::net {

class InMemoryListener : public Listener {
 public:
  InMemoryListener(std::shared_ptr<InMemoryNetwork> network, std::string address,
                   std::shared_ptr<HandshakeGate> gate)
      : network_(std::move(network)), address_(std::move(address)), gate_(std::move(gate)) {}

  ~InMemoryListener() override {
    network_->Unregister(address_);
    gate_->Close();
  }

  const std::string& address() const override { return address_; }

 private:
  std::shared_ptr<InMemoryNetwork> network_;
  std::string address_;
  std::shared_ptr<HandshakeGate> gate_;
};

class InMemoryTransport : public Transport {
 public:
  InMemoryTransport(std::shared_ptr<InMemoryNetwork> network, std::string name,
                    TransportConfig config)
      : network_(std::move(network)),
        name_(std::move(name)),
        config_(std::make_shared<const TransportConfig>(std::move(config))),
        registry_(std::make_shared<LinkRegistry>()) {}

  ~InMemoryTransport() override {
    registry_->ShutDown(absl::CancelledError("the node is shutting down"));
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen(const std::string& address,
                                                   ListenHandlers handlers) override {
    auto gate = std::make_shared<HandshakeGate>(config_, registry_, std::move(handlers));
    LATTICE_RETURN_IF_ERROR(network_->Register(address, name_, gate));
    return std::unique_ptr<Listener>(new InMemoryListener(network_, address, std::move(gate)));
  }

  absl::StatusOr<std::shared_ptr<Link>> Dial(const DialRequest& request) override {
    auto handshake =
        Handshake::ForDialer(config_->identity, request.expected_node_id, request.invite);
    if (!handshake.ok()) return handshake.status();
    auto deadline = Clock::now() + config_->limits.handshake_timeout;
    auto connection = network_->Connect(name_, request.address);
    if (!connection.ok()) return connection.status();
    std::string listener_name = connection->listener_name;
    connection->gate->Offer(std::move(connection->listener_end),
                            network_->DropHook(listener_name, name_));
    connection->gate.reset();
    auto session = RunHandshake(*connection->dialer_end, *handshake, deadline);
    if (!session.ok()) {
      connection->dialer_end->Shutdown();
      return session.status();
    }
    StreamLinkOptions options;
    options.limits = config_->limits;
    options.drop_outgoing = network_->DropHook(name_, listener_name);
    return MakeStreamLink(std::move(connection->dialer_end), *std::move(session),
                          std::move(options), registry_.get());
  }

 private:
  std::shared_ptr<InMemoryNetwork> network_;
  std::string name_;
  std::shared_ptr<const TransportConfig> config_;
  std::shared_ptr<LinkRegistry> registry_;
};

std::shared_ptr<InMemoryNetwork> InMemoryNetwork::Create() {
  return std::shared_ptr<InMemoryNetwork>(new InMemoryNetwork());
}

std::unique_ptr<Transport> InMemoryNetwork::CreateTransport(const std::string& name,
                                                            TransportConfig config) {
  return std::make_unique<InMemoryTransport>(shared_from_this(), name, std::move(config));
}

InMemoryNetwork::Pair InMemoryNetwork::Unordered(const std::string& a, const std::string& b) {
  return a < b ? Pair(a, b) : Pair(b, a);
}

absl::Status InMemoryNetwork::Register(const std::string& address, const std::string& owner,
                                       std::weak_ptr<HandshakeGate> gate) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = endpoints_.emplace(address, Endpoint{owner, std::move(gate)});
  if (!inserted) {
    return absl::AlreadyExistsError(
        fmt::format("in-memory address '{}' is already in use by {}", address, it->second.owner));
  }
  return absl::OkStatus();
}

void InMemoryNetwork::Unregister(const std::string& address) {
  std::lock_guard lock(mu_);
  endpoints_.erase(address);
}

absl::StatusOr<InMemoryNetwork::Connection> InMemoryNetwork::Connect(const std::string& dialer,
                                                                     const std::string& address) {
  std::lock_guard lock(mu_);
  auto endpoint = endpoints_.find(address);
  std::shared_ptr<HandshakeGate> gate;
  if (endpoint != endpoints_.end()) gate = endpoint->second.gate.lock();
  if (!gate) {
    return absl::UnavailableError(fmt::format("nobody listens on in-memory address '{}'", address));
  }
  const std::string& owner = endpoint->second.owner;
  if (cuts_.count(Unordered(dialer, owner)) != 0) {
    return absl::UnavailableError(
        fmt::format("cannot reach '{}': the network between {} and {} is cut", address, dialer,
                    owner));
  }
  std::erase_if(pipes_, [](const PipeEntry& entry) { return entry.pipe->ended(); });
  // The pipe is set up before anyone else can reach it, so its lock is never taken under
  // the network's (the taps take the network's lock under the pipe's).
  MemoryPipe::Options options;
  std::weak_ptr<InMemoryNetwork> self = weak_from_this();
  options.tap[0] = [self, from = dialer, to = owner](std::string_view bytes) {
    if (auto network = self.lock()) network->CountBytes(from, to, bytes.size(), bytes);
  };
  options.tap[1] = [self, from = owner, to = dialer](std::string_view bytes) {
    if (auto network = self.lock()) network->CountBytes(from, to, bytes.size(), bytes);
  };
  if (auto delay = delays_.find({dialer, owner}); delay != delays_.end()) {
    options.delay[0] = delay->second;
  }
  if (auto delay = delays_.find({owner, dialer}); delay != delays_.end()) {
    options.delay[1] = delay->second;
  }
  std::shared_ptr<MemoryPipe> pipe;
  auto [dialer_end, listener_end] =
      MemoryPipe::Connect(&pipe, dialer, address, std::move(options));
  pipes_.push_back(PipeEntry{{dialer, owner}, pipe});
  Connection connection;
  connection.dialer_end = std::move(dialer_end);
  connection.listener_end = std::move(listener_end);
  connection.listener_name = owner;
  connection.gate = std::move(gate);
  return connection;
}

bool InMemoryNetwork::ShouldDrop(const std::string& from, const std::string& to,
                                 std::string_view payload) {
  PayloadFilter filter;
  {
    std::lock_guard lock(mu_);
    if (auto it = filters_.find({from, to}); it != filters_.end()) filter = it->second;
  }
  if (filter && filter(payload)) return true;
  std::lock_guard lock(mu_);
  auto it = drops_.find({from, to});
  if (it == drops_.end() || it->second == 0) return false;
  --it->second;
  return true;
}

DropOutgoing InMemoryNetwork::DropHook(const std::string& from, const std::string& to) {
  std::weak_ptr<InMemoryNetwork> self = weak_from_this();
  return [self, from, to](std::string_view payload) {
    auto network = self.lock();
    return network && network->ShouldDrop(from, to, payload);
  };
}

void InMemoryNetwork::CountBytes(const std::string& from, const std::string& to, size_t n,
                                 std::string_view bytes) {
  Tap tap;
  {
    std::lock_guard lock(mu_);
    bytes_[{from, to}] += n;
    tap = tap_;
  }
  if (tap) tap(from, to, bytes);
}

void InMemoryNetwork::DropNextPayloads(const std::string& from, const std::string& to,
                                       uint64_t n) {
  std::lock_guard lock(mu_);
  drops_[{from, to}] += n;
}

void InMemoryNetwork::DropPayloadsWhere(const std::string& from, const std::string& to,
                                        PayloadFilter drop) {
  std::lock_guard lock(mu_);
  if (drop) {
    filters_[{from, to}] = std::move(drop);
  } else {
    filters_.erase({from, to});
  }
}

void InMemoryNetwork::SetDelay(const std::string& from, const std::string& to,
                               Clock::duration delay) {
  std::vector<std::pair<std::shared_ptr<MemoryPipe>, int>> affected;
  {
    std::lock_guard lock(mu_);
    delays_[{from, to}] = delay;
    for (const PipeEntry& entry : pipes_) {
      for (int side = 0; side < 2; ++side) {
        if (entry.names[side] == from && entry.names[1 - side] == to) {
          affected.emplace_back(entry.pipe, side);
        }
      }
    }
  }
  for (auto& [pipe, side] : affected) pipe->SetDelay(side, delay);
}

void InMemoryNetwork::Cut(const std::string& a, const std::string& b) {
  std::vector<std::shared_ptr<MemoryPipe>> affected;
  {
    std::lock_guard lock(mu_);
    cuts_.insert(Unordered(a, b));
    for (const PipeEntry& entry : pipes_) {
      if (Unordered(entry.names[0], entry.names[1]) == Unordered(a, b)) {
        affected.push_back(entry.pipe);
      }
    }
  }
  for (auto& pipe : affected) {
    pipe->Cut(fmt::format("the network between {} and {} was cut", a, b));
  }
}

void InMemoryNetwork::Heal(const std::string& a, const std::string& b) {
  std::lock_guard lock(mu_);
  cuts_.erase(Unordered(a, b));
}

uint64_t InMemoryNetwork::BytesSent(const std::string& from, const std::string& to) const {
  std::lock_guard lock(mu_);
  auto it = bytes_.find({from, to});
  return it == bytes_.end() ? 0 : it->second;
}

absl::StatusOr<std::unique_ptr<ByteStream>> InMemoryNetwork::DialRaw(
    const std::string& from, const std::string& address) {
  auto connection = Connect(from, address);
  if (!connection.ok()) return connection.status();
  connection->gate->Offer(std::move(connection->listener_end),
                          DropHook(connection->listener_name, from));
  return std::move(connection->dialer_end);
}

void InMemoryNetwork::SetTap(Tap tap) {
  std::lock_guard lock(mu_);
  tap_ = std::move(tap);
}

}  // namespace lattice::kernel::net
