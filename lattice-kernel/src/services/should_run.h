// The consent firewall's decision (DESIGN §8): whether this node runs one instance
// (store, service). A mesh's declaration is only a suggestion; the node's consent for that
// service in that mesh decides whether it is followed, and the owner's own acts (a LocalOnly
// declaration, an explicit start or stop) need no further consent. Pure: the table test in
// tests/unit/services/should_run_test.cc covers every case.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/declaration.h"

namespace lattice::services {

// Per service and mesh, in the node database; kManual when never set.
enum class Consent { kManual, kFollowMesh, kAlways, kBlock };
absl::StatusOr<Consent> ParseConsent(std::string_view text);  // manual|follow-mesh|always|block
std::string_view ConsentName(Consent consent);

// The operator's explicit `service start` / `service stop` of one instance, kept until
// `service reset`.
enum class Control { kNone, kStart, kStop };
std::string_view ControlName(Control control);

struct RunInputs {
  Consent consent = Consent::kManual;
  Control control = Control::kNone;
  bool declared_locally = false;       // a LocalOnly declaration in the node database
  bool local_enabled = true;
  bool declared_by_mesh = false;       // the mesh's /services/{id}/config names the store
  bool mesh_enabled = true;
  Policy mesh_policy;                  // Global or TaggedNodes(tag)
  bool node_has_tag = false;           // this node carries mesh_policy.tag (its own tags)
};

struct RunDecision {
  bool run = false;
  std::string reason;  // why, for `service list`
};

// block > explicit stop > explicit start > LocalOnly declaration > the mesh's declaration
// as the consent allows: manual follows nothing, follow-mesh follows enabled declarations
// whose policy places the service here, always follows every enabled declaration wherever
// its policy places it.
RunDecision ShouldRun(const RunInputs& in);

}  // namespace lattice::services
