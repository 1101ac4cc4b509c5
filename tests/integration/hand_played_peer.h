// A mesh member the test plays by hand over real TCP links to real kernels: it joins with an
// invite token like any node, then sends whatever the test wants (forged signatures, broken
// chains, forks, unusable payloads, garbage) to see how the kernels defend themselves.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/common/crypto.h"
#include "lattice/v1/intention.pb.h"
#include "net/tcp_transport.h"

namespace lattice::testing {

class HandPlayedPeer {
 public:
  // Joins the mesh of `token` (lattice-ctl peer invite) by linking to the inviter.
  static absl::StatusOr<std::unique_ptr<HandPlayedPeer>> Join(const std::string& token);
  // Joins the mesh of `token` again as the same node (say, after it was revoked).
  absl::Status Rejoin(const std::string& token);
  ~HandPlayedPeer();

  const KeyPair& key() const { return key_; }
  std::string id_hex() const;
  const std::string& mesh_id() const { return mesh_id_; }
  // The link made by Join.
  const std::shared_ptr<kernel::net::Link>& inviter_link() const { return links_.front(); }

  // A link to the member `node_id_hex` listening at `address`.
  absl::StatusOr<std::shared_ptr<kernel::net::Link>> Dial(const std::string& address,
                                                          const std::string& node_id_hex);
  // Sends `intentions` of `store_id` (canonical form) as a gossip push.
  absl::Status Push(kernel::net::Link& link, const std::string& store_id,
                    const std::vector<v1::SignedIntention>& intentions);

  // Builds and signs this node's intentions in one store, continuing its chain.
  v1::SignedIntention NextKv(const std::string& store_id, const std::string& key,
                             const std::string& value);
  // An intention at `seq` after `prev`, with `payload` as given (forks, unusable payloads).
  v1::SignedIntention At(const std::string& store_id, uint64_t seq, const std::string& prev,
                         const std::string& op_type, const std::string& payload);

 private:
  HandPlayedPeer();

  KeyPair key_;
  std::unique_ptr<kernel::net::TcpTransport> transport_;
  std::vector<std::shared_ptr<kernel::net::Link>> links_;
  std::string mesh_id_;
  uint64_t seq_ = 0;
  std::string tip_;
};

}  // namespace lattice::testing
