// A blocking HTTP/1.1 client on plain sockets for the server's tests: it sends exactly the bytes
// a test gives (garbage, half a header, pipelined requests) and reads with deadlines.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lattice::web::http::testing {

struct TestResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const;
};

class TestClient {
 public:
  // Connects to 127.0.0.1:port, from `source_ip` when given (any 127.x.y.z). Check connected().
  explicit TestClient(uint16_t port, const std::string& source_ip = "",
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view bytes);
  // Reads one response: its head, then a body of Content-Length bytes, or up to the close when
  // the response has no length. nullopt on timeout, close before a whole response, or junk.
  std::optional<TestResponse> ReadResponse();
  // Reads until `text` has arrived (kept for ReadResponse). False on timeout or close.
  bool ReadUntil(std::string_view text);
  // Reads (and drops) until the server closes. False when still open after the timeout.
  bool WaitClosed();
  void ShutdownWrite();
  void Close();
  // Bytes received and not yet consumed by ReadResponse.
  const std::string& received() const { return received_; }
  int fd() const { return fd_; }

 private:
  // Reads more bytes within the deadline; false on close, error or timeout.
  bool ReadMore(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string received_;
  bool eof_ = false;
};

// "GET <target> HTTP/1.1" with Host and the extra header lines given ("Name: value").
std::string GetRequest(std::string_view target, const std::vector<std::string>& headers = {});

// Polls `condition` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace lattice::web::http::testing
