// Accepts connections and starts a Connection for each, on its own strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "src/http/server_state.h"

namespace lattice::web::http {

// Lives on its own strand of server->io; Open is called before the io threads run.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  explicit Listener(std::shared_ptr<ServerState> server);

  // Binds and listens on host:port; the error names the address.
  absl::Status Open(const std::string& host, uint16_t port);
  uint16_t port() const;
  void Start();
  void PostClose();

 private:
  void Accept();

  std::shared_ptr<ServerState> server_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // after accept fails (out of file descriptors)
};

}  // namespace lattice::web::http
