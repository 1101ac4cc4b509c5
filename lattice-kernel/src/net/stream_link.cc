#include "net/stream_link.h"

#include "lattice/common/hex.h"
#include "lattice/common/status.h"
#include "net/frame_receiver.h"
#include "net/link_registry.h"
#include "net/peer_text.h"
#include "net/token_bucket.h"

namespace lattice::kernel::net {
namespace {

// Bytes read from the stream at a time: also the rate limiter's granularity.
constexpr size_t kReadChunkBytes = 64 * 1024;

int64_t Ms(std::chrono::milliseconds d) { return d.count(); }

// The handle the kernel holds; releasing it closes the link.
class StreamLink : public Link {
 public:
  explicit StreamLink(std::shared_ptr<LinkCore> core) : core_(std::move(core)) {}
  ~StreamLink() override { core_->Release(); }

  const std::string& peer_id() const override { return core_->peer_id(); }
  const std::string& invite_id() const override { return core_->invite_id(); }
  const std::string& remote_address() const override { return core_->remote_address(); }
  bool dialed() const override { return core_->dialed(); }
  void Start(Handler handler) override { core_->Start(std::move(handler)); }
  absl::Status Send(std::string payload, std::chrono::milliseconds max_wait) override {
    return core_->Send(std::move(payload), max_wait);
  }
  void ReportInvalid(std::string_view what) override { core_->ReportInvalid(what); }
  void Close(std::string_view reason) override {
    core_->Close(absl::CancelledError(std::string(reason)));
  }
  bool open() const override { return core_->open(); }
  absl::Status close_reason() const override { return core_->close_reason(); }
  LinkStats stats() const override { return core_->stats(); }

 private:
  std::shared_ptr<LinkCore> core_;
};

}  // namespace

bool IsMisbehaviour(const absl::Status& reason) {
  return absl::IsDataLoss(reason) || absl::IsResourceExhausted(reason) ||
         absl::IsInvalidArgument(reason);
}

absl::StatusOr<std::shared_ptr<Link>> MakeStreamLink(std::unique_ptr<ByteStream> stream,
                                                     EstablishedSession session,
                                                     StreamLinkOptions options,
                                                     LinkRegistry* registry) {
  auto core = std::make_shared<LinkCore>(std::move(stream), std::move(session),
                                         std::move(options), registry);
  if (!registry->Add(core)) {
    core->ShutdownStream();
    return absl::UnavailableError("the transport is shutting down");
  }
  core->Launch();
  return std::make_shared<StreamLink>(std::move(core));
}

LinkCore::LinkCore(std::unique_ptr<ByteStream> stream, EstablishedSession session,
                   StreamLinkOptions options, LinkRegistry* registry)
    : stream_(std::move(stream)),
      peer_id_(std::move(session.peer_id)),
      invite_id_(std::move(session.invite_id)),
      dialed_(session.role == Role::kDialer),
      options_(std::move(options)),
      registry_(registry),
      sealer_(std::move(session.sealer)),
      opener_(std::move(session.opener)),
      leftover_(std::move(session.leftover)) {}

LinkCore::~LinkCore() {
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
}

void LinkCore::Launch() {
  writer_ = std::thread([this] { WriterMain(); });
  reader_ = std::thread([this] { ReaderMain(); });
}

void LinkCore::Start(Link::Handler handler) {
  std::lock_guard lock(mu_);
  if (started_) return;
  handler_ = std::move(handler);
  started_ = true;
  cv_.notify_all();
}

absl::Status LinkCore::Send(std::string payload, std::chrono::milliseconds max_wait) {
  if (payload.size() > kMaxFramePayloadBytes) {
    return LimitExceeded("payload", payload.size(), kMaxFramePayloadBytes);
  }
  std::unique_lock lock(mu_);
  auto closed = [&] {
    return absl::UnavailableError(fmt::format("link to node {} is closed: {}",
                                              ShortHex(peer_id_), reason_.message()));
  };
  if (closing_) return closed();
  lock.unlock();
  if (options_.drop_outgoing && options_.drop_outgoing(payload)) {
    ++frames_dropped_;
    return absl::OkStatus();
  }
  lock.lock();
  size_t limit = options_.limits.max_send_queue_bytes;
  auto room = [&] {
    return closing_ || queue_.empty() || queued_bytes_ + payload.size() <= limit;
  };
  if (!room() && max_wait.count() > 0) cv_.wait_for(lock, max_wait, room);
  if (closing_) return closed();
  if (!room()) {
    return absl::ResourceExhaustedError(fmt::format(
        "send queue to node {} is full ({} bytes waiting, limit {}): the peer reads slowly",
        ShortHex(peer_id_), queued_bytes_, limit));
  }
  queued_bytes_ += payload.size();
  queue_.push_back(std::move(payload));
  cv_.notify_all();
  return absl::OkStatus();
}

void LinkCore::ReportInvalid(std::string_view what) {
  uint32_t reports;
  {
    std::lock_guard lock(mu_);
    reports = ++invalid_reports_;
  }
  if (reports >= options_.limits.max_invalid_reports) {
    Close(absl::InvalidArgumentError(
        fmt::format("node {} kept sending invalid data ({} reports); the last: {}",
                    ShortHex(peer_id_), reports, what)));
  }
}

void LinkCore::Close(absl::Status reason) {
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
    closing_ = true;
    reason_ = reason.ok() ? absl::CancelledError("closed") : std::move(reason);
    shutdown_deadline_ = Clock::now() + options_.limits.close_flush_timeout;
    queue_.clear();
    queued_bytes_ = 0;
    cv_.notify_all();
  }
  registry_->Wake();
}

void LinkCore::Release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  Close(absl::CancelledError("link released"));
}

bool LinkCore::closing() const {
  std::lock_guard lock(mu_);
  return closing_;
}

bool LinkCore::open() const { return !closing(); }

absl::Status LinkCore::close_reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

LinkStats LinkCore::stats() const {
  LinkStats stats;
  stats.bytes_sent = bytes_sent_.load();
  stats.bytes_received = bytes_received_.load();
  stats.frames_sent = frames_sent_.load();
  stats.frames_received = frames_received_.load();
  stats.frames_dropped = frames_dropped_.load();
  return stats;
}

Clock::time_point LinkCore::shutdown_deadline() const {
  std::lock_guard lock(mu_);
  return shutdown_deadline_;
}

void LinkCore::ShutdownStream() {
  {
    std::lock_guard lock(mu_);
    shutdown_deadline_ = Clock::time_point::max();
  }
  stream_->Shutdown();
}

void LinkCore::JoinReader() {
  if (reader_.joinable()) reader_.join();
}

void LinkCore::Deliver(std::string payload) {
  {
    std::lock_guard lock(mu_);
    if (released_ || closing_) return;
  }
  // handler_ is set once before the reader starts delivering; no lock needed to call it.
  if (handler_.on_payload) handler_.on_payload(std::move(payload));
}

void LinkCore::WriterMain() {
  const auto stall = options_.limits.write_stall_timeout;
  while (true) {
    std::string payload;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (closing_) break;
      payload = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= payload.size();
      cv_.notify_all();
    }
    std::string frame = sealer_.Seal(payload);
    absl::Status written = stream_->Write(frame, stall);
    if (!written.ok()) {
      if (absl::IsDeadlineExceeded(written)) {
        Close(absl::DeadlineExceededError(fmt::format(
            "node {} accepted none of our data for {} ms", ShortHex(peer_id_), Ms(stall))));
      } else {
        Close(absl::UnavailableError(fmt::format("connection to node {} lost: {}",
                                                 ShortHex(peer_id_), written.message())));
      }
      break;
    }
    bytes_sent_ += frame.size();
    ++frames_sent_;
  }
  // Tell the peer why, then end our side; the registry cuts this short at the deadline.
  std::string reason;
  {
    std::lock_guard lock(mu_);
    reason = PeerText(std::string(reason_.message()));
  }
  std::string frame = sealer_.Seal(reason, /*final=*/true);
  if (stream_->Write(frame, options_.limits.close_flush_timeout).ok()) {
    bytes_sent_ += frame.size();
  }
  stream_->FinishWrites();
}

void LinkCore::ReaderMain() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return started_ || closing_; });
  }
  FrameReceiver receiver(opener_);
  TokenBucket bucket(options_.limits.receive_bytes_per_second,
                     options_.limits.receive_burst_bytes, Clock::now());
  auto deliver = [this](std::string payload) { Deliver(std::move(payload)); };
  std::string buffer = std::exchange(leftover_, std::string());
  bytes_received_ += buffer.size();
  while (!closing()) {
    if (buffer.empty()) {
      absl::Status read = stream_->Read(kReadChunkBytes, Clock::time_point::max(), &buffer);
      if (!read.ok()) {
        Close(absl::UnavailableError(fmt::format("connection to node {} lost: {}",
                                                 ShortHex(peer_id_), read.message())));
        break;
      }
      bytes_received_ += buffer.size();
    }
    // A peer over its budget waits here: we stop reading and flow control slows it down.
    auto wait = bucket.Take(buffer.size(), Clock::now());
    if (wait > Clock::duration::zero()) {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, wait, [&] { return closing_; })) break;
    }
    absl::Status fed = receiver.Feed(buffer, deliver);
    frames_received_ = receiver.frames_received();
    buffer.clear();
    if (!fed.ok()) {
      Close(absl::Status(fed.code(), fmt::format("node {} sent a bad frame: {}",
                                                 ShortHex(peer_id_), fed.message())));
      break;
    }
    if (receiver.peer_closed()) {
      Close(absl::UnavailableError(fmt::format("node {} closed the link: {}",
                                               ShortHex(peer_id_), receiver.peer_reason())));
      break;
    }
  }
  // Read to the peer's end (it answers our close frame), or until the registry shuts the
  // stream at the close deadline.
  while (stream_->Read(kReadChunkBytes, Clock::time_point::max(), &buffer).ok()) {
    bytes_received_ += buffer.size();
  }
  writer_.join();
  stream_->Shutdown();
  std::function<void(const absl::Status&)> on_close;
  absl::Status reason;
  {
    std::lock_guard lock(mu_);
    if (started_ && !released_) on_close = handler_.on_close;
    reason = reason_;
  }
  if (on_close) on_close(reason);
  finished_ = true;
  registry_->Wake();
}

}  // namespace lattice::kernel::net
