// The test client.
#include "http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

namespace lattice::web::http::testing {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> TestResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (IEquals(key, name)) return value;
  }
  return std::nullopt;
}

TestClient::TestClient(uint16_t port, const std::string& source_ip,
                       std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (!source_ip.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_ip.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return;
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

TestClient::~TestClient() { Close(); }

void TestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TestClient::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool TestClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestClient::ReadMore(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || eof_) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    received_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

bool TestClient::ReadUntil(std::string_view text) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (received_.find(text) == std::string::npos) {
    if (!ReadMore(deadline)) return false;
  }
  return true;
}

bool TestClient::WaitClosed() {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!eof_) {
    if (!ReadMore(deadline) && !eof_) return false;
  }
  return true;
}

std::optional<TestResponse> TestClient::ReadResponse() {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  size_t head_end;
  while ((head_end = received_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(deadline)) return std::nullopt;
  }
  std::string head = received_.substr(0, head_end + 2);
  received_.erase(0, head_end + 4);
  TestResponse response;
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
  response.status = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    size_t value = line.find_first_not_of(' ', colon + 1);
    response.headers.emplace_back(line.substr(0, colon),
                                  value == std::string::npos ? "" : line.substr(value));
  }
  if (response.status < 200 || response.status == 204 || response.status == 304) return response;
  if (auto length = response.Header("Content-Length")) {
    size_t want = std::strtoull(length->c_str(), nullptr, 10);
    while (received_.size() < want) {
      if (!ReadMore(deadline)) return std::nullopt;
    }
    response.body = received_.substr(0, want);
    received_.erase(0, want);
    return response;
  }
  while (ReadMore(deadline)) {
  }
  if (!eof_) return std::nullopt;
  response.body = std::move(received_);
  received_.clear();
  return response;
}

std::string GetRequest(std::string_view target, const std::vector<std::string>& headers) {
  std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n";
  for (const std::string& header : headers) request += header + "\r\n";
  return request + "\r\n";
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace lattice::web::http::testing
