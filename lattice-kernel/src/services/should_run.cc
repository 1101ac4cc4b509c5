#include "lattice/common/status.h"
#include "services/should_run.h"

#include <fmt/format.h>

namespace lattice::services {

absl::StatusOr<Consent> ParseConsent(std::string_view text) {
  if (text == "manual") return Consent::kManual;
  if (text == "follow-mesh") return Consent::kFollowMesh;
  if (text == "always") return Consent::kAlways;
  if (text == "block") return Consent::kBlock;
  return absl::InvalidArgumentError("consent is manual, follow-mesh, always or block");
}

std::string_view ConsentName(Consent consent) {
  switch (consent) {
    case Consent::kManual: return "manual";
    case Consent::kFollowMesh: return "follow-mesh";
    case Consent::kAlways: return "always";
    case Consent::kBlock: return "block";
  }
  return "unknown";
}

std::string_view ControlName(Control control) {
  switch (control) {
    case Control::kNone: return "";
    case Control::kStart: return "start";
    case Control::kStop: return "stop";
  }
  return "unknown";
}

RunDecision ShouldRun(const RunInputs& in) {
  if (in.consent == Consent::kBlock) return {false, "blocked by this node's consent"};
  if (in.control == Control::kStop) return {false, "stopped by the operator"};
  if (in.control == Control::kStart) return {true, "started by the operator"};
  if (in.declared_locally) {
    if (in.local_enabled) return {true, "declared locally"};
    return {false, "the local declaration is disabled"};
  }
  if (!in.declared_by_mesh) return {false, "not declared"};
  if (!in.mesh_enabled) return {false, "disabled by the mesh"};
  switch (in.consent) {
    case Consent::kManual:
      return {false, "consent is manual: the mesh's declaration is only a suggestion"};
    case Consent::kAlways:
      return {true, "declared by the mesh; consent always"};
    case Consent::kFollowMesh:
      if (in.mesh_policy.kind == PolicyKind::kGlobal) return {true, "declared by the mesh for every node"};
      if (in.mesh_policy.kind == PolicyKind::kTaggedNodes) {
        if (in.node_has_tag) return {true, fmt::format("declared by the mesh for nodes tagged {}", in.mesh_policy.tag)};
        return {false, fmt::format("declared for nodes tagged {}; this node is not", in.mesh_policy.tag)};
      }
      return {false, "a mesh declaration cannot be LocalOnly"};
    case Consent::kBlock:
      break;
  }
  return {false, "blocked by this node's consent"};
}

}  // namespace lattice::services
