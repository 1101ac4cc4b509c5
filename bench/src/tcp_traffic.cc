#include "tcp_traffic.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace lattice::bench {
namespace {

// The dump comes in datagrams of this size at most; a bound on the replies read.
constexpr size_t kReceiveBuffer = 64 * 1024;
constexpr int kMaxReplies = 100'000;
// TCP_LISTEN of the Linux kernel's socket states (include/net/tcp_states.h), which no uapi
// header exports.
constexpr unsigned kTcpListenState = 10;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(fmt::format("sock_diag {}: {}", what, std::strerror(errno)));
}

// Adds one inet_diag_msg's byte counts to `traffic` when it is a connection of `local`.
void Count(const nlmsghdr* header, const in_addr& local, TcpTraffic& traffic) {
  if (header->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return;
  const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
  if (std::memcmp(&msg->id.idiag_src[0], &local.s_addr, sizeof(local.s_addr)) != 0) return;
  int length = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof(inet_diag_msg)));
  for (const rtattr* attr = reinterpret_cast<const rtattr*>(msg + 1); RTA_OK(attr, length);
       attr = RTA_NEXT(attr, length)) {
    if (attr->rta_type != INET_DIAG_INFO) continue;
    tcp_info info{};
    size_t available = RTA_PAYLOAD(attr);
    // Older kernels send a shorter tcp_info; the byte counts are then absent and count 0.
    std::memcpy(&info, RTA_DATA(attr), std::min(available, sizeof(info)));
    if (available >= offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received)) {
      traffic.received += info.tcpi_bytes_received;
      traffic.sent += info.tcpi_bytes_acked;
    }
    ++traffic.sockets;
  }
}

}  // namespace

absl::StatusOr<TcpTraffic> TcpTrafficOfLocalIp(const std::string& ip) {
  in_addr local{};
  if (::inet_pton(AF_INET, ip.c_str(), &local) != 1) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not an IPv4 address", ip));
  }
  Fd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.get() < 0) return Errno("socket");

  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } query{};
  query.header.nlmsg_len = sizeof(query);
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  query.request.sdiag_family = AF_INET;
  query.request.sdiag_protocol = IPPROTO_TCP;
  query.request.idiag_states = ~(1u << kTcpListenState);
  query.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), &query, sizeof(query), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    return Errno("send");
  }

  TcpTraffic traffic;
  std::vector<char> buffer(kReceiveBuffer);
  for (int replies = 0; replies < kMaxReplies; ++replies) {
    ssize_t got = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Errno("recv");
    }
    int left = static_cast<int>(got);
    for (const auto* header = reinterpret_cast<const nlmsghdr*>(buffer.data());
         NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
      if (header->nlmsg_type == NLMSG_DONE) return traffic;
      if (header->nlmsg_type == NLMSG_ERROR) {
        return absl::UnavailableError("sock_diag: the kernel refused the socket dump");
      }
      Count(header, local, traffic);
    }
  }
  return absl::UnavailableError("sock_diag: the socket dump did not end");
}

}  // namespace lattice::bench
