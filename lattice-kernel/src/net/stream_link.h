// The Link over a ByteStream, used by both transports: a reader thread (rate limit, frame
// decryption, delivery) and a writer thread (bounded send queue, encryption), with an
// orderly close that tells the peer why.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "net/byte_stream.h"
#include "net/handshake.h"
#include "net/transport.h"

namespace lattice::kernel::net {

class LinkRegistry;

// Fault injection (in-memory transport): returns true to drop the payload being sent, as a
// network that loses a message would.
using DropOutgoing = std::function<bool(std::string_view payload)>;

struct StreamLinkOptions {
  LinkLimits limits;
  DropOutgoing drop_outgoing;
};

// Makes and starts the link of an established session, tracked by `registry` (which must
// outlive it). UNAVAILABLE when the registry is shutting down.
absl::StatusOr<std::shared_ptr<Link>> MakeStreamLink(std::unique_ptr<ByteStream> stream,
                                                     EstablishedSession session,
                                                     StreamLinkOptions options,
                                                     LinkRegistry* registry);

// The shared state of one link, kept alive by its registry until its threads end; the Link
// handed to the kernel is a handle to it. Thread-safe.
class LinkCore {
 public:
  LinkCore(std::unique_ptr<ByteStream> stream, EstablishedSession session,
           StreamLinkOptions options, LinkRegistry* registry);
  ~LinkCore();

  void Launch();

  const std::string& peer_id() const { return peer_id_; }
  const std::string& invite_id() const { return invite_id_; }
  const std::string& remote_address() const { return stream_->remote_address(); }
  bool dialed() const { return dialed_; }

  void Start(Link::Handler handler);
  absl::Status Send(std::string payload, std::chrono::milliseconds max_wait);
  void ReportInvalid(std::string_view what);
  // Begins closing with `reason` (the first reason wins).
  void Close(absl::Status reason);
  // The handle was released: no callback from now on, and the link closes.
  void Release();
  bool open() const;
  absl::Status close_reason() const;
  LinkStats stats() const;

  // For the registry: when the stream must be shut down (max() while open), doing it, and
  // whether the threads are done.
  Clock::time_point shutdown_deadline() const;
  void ShutdownStream();
  bool finished() const { return finished_.load(); }
  void JoinReader();

 private:
  void ReaderMain();
  void WriterMain();
  void Deliver(std::string payload);
  bool closing() const;

  std::unique_ptr<ByteStream> stream_;
  const std::string peer_id_;
  const std::string invite_id_;
  const bool dialed_;
  StreamLinkOptions options_;
  LinkRegistry* registry_;
  FrameSealer sealer_;      // writer thread only
  FrameOpener opener_;      // handed to the reader
  std::string leftover_;    // reader thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool started_ = false;
  bool released_ = false;
  Link::Handler handler_;
  absl::Status reason_;  // OK while open
  bool closing_ = false;
  Clock::time_point shutdown_deadline_ = Clock::time_point::max();
  uint32_t invalid_reports_ = 0;

  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> frames_sent_{0};
  std::atomic<uint64_t> frames_received_{0};
  std::atomic<uint64_t> frames_dropped_{0};
  std::atomic<bool> finished_{false};

  std::thread reader_;
  std::thread writer_;
};

}  // namespace lattice::kernel::net
