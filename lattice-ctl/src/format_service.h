// How services look: the list (descriptors, per mesh the declarations, consent and where
// each member runs what, then this node's instances), and the results of declare, consent,
// override, start/stop/reset and node tag.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

std::string ServiceListText(const v1::ListServicesResponse& response, uint64_t now_ms);
nlohmann::json ServiceListJson(const v1::ListServicesResponse& response);

nlohmann::json ServiceInstanceJson(const v1::ServiceInstanceInfo& instance);
nlohmann::json ServiceDeclarationJson(const v1::ServiceDeclarationInfo& declaration);

// "declared lattice.irc-gateway for <stores> in mesh <id> (TaggedNodes(gateway))", or the
// reason this node refuses what it declared.
std::string DeclarationLine(const v1::ServiceDeclarationInfo& declaration, bool undeclared);
// "<service>@<store>: <status> (<reason>)" and its endpoints.
std::string InstanceLine(const v1::ServiceInstanceInfo& instance);
std::string ConsentLine(const v1::ServiceConsentInfo& consent);
nlohmann::json ConsentJson(const v1::ServiceConsentInfo& consent);
std::string OverridesLine(const v1::ServiceOverridesResponse& response);
nlohmann::json OverridesJson(const v1::ServiceOverridesResponse& response);
std::string TagsLine(const v1::NodeTagsResponse& response);
nlohmann::json TagsJson(const v1::NodeTagsResponse& response);

}  // namespace lattice::ctl
