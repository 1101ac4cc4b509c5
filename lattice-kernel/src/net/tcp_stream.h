// ByteStream over a TCP socket (non-blocking socket, poll with deadlines, an eventfd to wake
// blocked calls on Shutdown), and the listening socket that accepts them.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "net/address.h"
#include "net/byte_stream.h"

namespace lattice::kernel::net {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { int fd = fd_; fd_ = -1; return fd; }

 private:
  int fd_ = -1;
};

class TcpStream : public ByteStream {
 public:
  // Connects to `address` (resolved with getaddrinfo, each result tried in turn) by
  // `deadline`. UNAVAILABLE with the reason when no address answers. A non-empty
  // `source_ip` (a numeric address of this host) is bound first, so the connection leaves
  // from it (multi-homed hosts; loopback tests where each node has its own 127.x address).
  static absl::StatusOr<std::unique_ptr<TcpStream>> Connect(const HostPort& address,
                                                            Clock::time_point deadline,
                                                            const std::string& source_ip = "");

  // Takes a connected socket (made non-blocking here).
  static absl::StatusOr<std::unique_ptr<TcpStream>> Adopt(UniqueFd fd,
                                                          std::string remote_address);

  absl::Status Read(size_t max_bytes, Clock::time_point deadline, std::string* out) override;
  absl::Status Write(std::string_view bytes, Clock::duration stall_timeout) override;
  void FinishWrites() override;
  void Shutdown() override;
  const std::string& remote_address() const override { return remote_address_; }

 private:
  TcpStream(UniqueFd fd, UniqueFd wake, std::string remote_address);
  // OK when the socket may be ready for `events` (or has an error to report).
  absl::Status Wait(short events, Clock::time_point deadline);

  UniqueFd fd_;
  UniqueFd wake_;  // eventfd, readable once Shutdown was called
  std::atomic<bool> shut_{false};
  std::string remote_address_;
};

// A listening TCP socket. Accept runs on one thread; Shutdown from any.
class TcpAcceptor {
 public:
  // Binds and listens on `address` (host "0.0.0.0", "::" or "*" for every interface;
  // port 0 for an ephemeral port).
  static absl::StatusOr<std::unique_ptr<TcpAcceptor>> Bind(const HostPort& address);

  // The bound address, with the real port ("127.0.0.1:40123").
  const std::string& local_address() const { return local_address_; }

  // Waits for the next connection. UNAVAILABLE after Shutdown; RESOURCE_EXHAUSTED when
  // the process is out of descriptors (the caller waits and retries).
  absl::StatusOr<std::unique_ptr<TcpStream>> Accept();

  // Wakes Accept and makes it fail from now on.
  void Shutdown();

  // Waits up to `timeout` or until Shutdown (used to back off after an accept failure).
  void Pause(Clock::duration timeout);

 private:
  TcpAcceptor(UniqueFd fd, UniqueFd wake, std::string local_address);

  UniqueFd fd_;
  UniqueFd wake_;
  std::atomic<bool> shut_{false};
  std::string local_address_;
};

}  // namespace lattice::kernel::net
