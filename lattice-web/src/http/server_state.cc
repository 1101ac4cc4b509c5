// The registry of open connections.
#include "src/http/server_state.h"

namespace lattice::web::http {

bool ServerState::Register(uint64_t id, const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  connections_.emplace(id, connection);
  return true;
}

void ServerState::Unregister(uint64_t id) {
  std::lock_guard lock(mutex_);
  connections_.erase(id);
}

std::vector<std::shared_ptr<Connection>> ServerState::BeginStop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [id, weak] : connections_) {
    if (auto connection = weak.lock()) open.push_back(std::move(connection));
  }
  return open;
}

}  // namespace lattice::web::http
