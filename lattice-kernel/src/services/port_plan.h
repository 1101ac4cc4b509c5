// Port clashes between the instances one node is about to run (DESIGN §8), found before any
// starts: two instances that want the same TCP port cannot both have it. The one already
// running on it keeps it, then one whose port is the node's own override, then the first by
// instance name; each other one gets port 0 (the OS picks, the daemon reports what it
// bound) where its descriptor allows, and is refused otherwise, with the way out in the
// reason. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lattice::services {

struct PortClaim {
  std::string instance;       // "lattice.irc-gateway@<store>", for messages and order
  std::string override_hint;  // the command that would resolve a clash, for the reason
  int64_t port = 0;           // wanted; 0 asks the OS and never clashes
  bool running_on_it = false; // the instance runs with this very port now
  bool overridden = false;    // the node's local override chose it
  bool allow_zero = false;
};

struct PortAssignment {
  int64_t port = 0;           // what the instance is started with
  bool refused = false;
  std::string note;           // why it differs from the wanted port, or why it is refused
};

// One assignment per claim, in the order of `claims`.
std::vector<PortAssignment> PlanPorts(const std::vector<PortClaim>& claims);

}  // namespace lattice::services
