#include "net/handshake_gate.h"

#include "lattice/common/status.h"
#include "net/handshake_runner.h"

namespace lattice::kernel::net {

HandshakeGate::HandshakeGate(std::shared_ptr<const TransportConfig> config,
                             std::shared_ptr<LinkRegistry> registry, ListenHandlers handlers)
    : config_(std::move(config)), registry_(std::move(registry)), handlers_(std::move(handlers)) {}

HandshakeGate::~HandshakeGate() { Close(); }

std::list<HandshakeGate::Pending> HandshakeGate::TakeDoneLocked() {
  std::list<Pending> done;
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (it->done) done.splice(done.end(), pending_, it);
    it = next;
  }
  return done;
}

void HandshakeGate::Refuse(const std::string& remote_address, const absl::Status& reason) {
  if (handlers_.on_refused) handlers_.on_refused(remote_address, reason);
}

size_t HandshakeGate::pending() const {
  std::lock_guard lock(mu_);
  return running_;
}

void HandshakeGate::Offer(std::unique_ptr<ByteStream> stream,
                          DropOutgoing drop_outgoing) {
  std::list<Pending> done;
  absl::Status refusal;
  {
    std::lock_guard lock(mu_);
    done = TakeDoneLocked();
    if (closed_) {
      refusal = absl::UnavailableError("the listener is closed");
    } else if (running_ >= config_->limits.max_pending_handshakes) {
      refusal = LimitExceeded("handshakes in progress", running_ + 1,
                              config_->limits.max_pending_handshakes, "connections");
    } else {
      Pending& entry = pending_.emplace_back();
      entry.stream = stream.get();
      ++running_;
      entry.thread = std::thread(&HandshakeGate::Run, this, &entry, std::move(stream),
                                 std::move(drop_outgoing));
    }
  }
  for (Pending& entry : done) entry.thread.join();
  if (!refusal.ok()) {
    std::string remote = stream->remote_address();
    stream->Shutdown();
    stream.reset();
    Refuse(remote, refusal);
  }
}

void HandshakeGate::Run(Pending* pending, std::unique_ptr<ByteStream> stream,
                        DropOutgoing drop_outgoing) {
  const std::string remote = stream->remote_address();
  Handshake handshake = Handshake::ForListener(config_->identity, config_->admit);
  auto session =
      RunHandshake(*stream, handshake, Clock::now() + config_->limits.handshake_timeout);
  {
    std::lock_guard lock(mu_);
    pending->stream = nullptr;
    --running_;
  }
  absl::StatusOr<std::shared_ptr<Link>> link = absl::UnknownError("no session");
  if (!session.ok()) {
    link = session.status();
  } else {
    StreamLinkOptions options;
    options.limits = config_->limits;
    options.drop_outgoing = std::move(drop_outgoing);
    link = MakeStreamLink(std::move(stream), *std::move(session), std::move(options),
                          registry_.get());
  }
  if (stream) stream->Shutdown();
  if (link.ok()) {
    if (handlers_.on_link) handlers_.on_link(*std::move(link));
  } else {
    Refuse(remote, link.status());
  }
  std::lock_guard lock(mu_);
  pending->done = true;
}

void HandshakeGate::Close() {
  std::list<Pending> all;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (Pending& entry : pending_) {
      if (entry.stream != nullptr) entry.stream->Shutdown();
    }
    all.splice(all.end(), pending_);
  }
  for (Pending& entry : all) entry.thread.join();
}

}  // namespace lattice::kernel::net
