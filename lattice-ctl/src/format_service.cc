#include "format_service.h"

#include <fmt/format.h>

#include "output.h"

namespace lattice::ctl {
namespace {

constexpr size_t kShortId = 8;

std::string Short(const std::string& id) { return AbbreviateId(id, kShortId); }

std::string StoreShown(const std::string& name, const std::string& id) {
  return name.empty() ? Short(id) : EscapeForLine(name);
}

nlohmann::json SettingsJson(const google::protobuf::RepeatedPtrField<v1::ServiceSetting>& settings) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& s : settings) SetBytes(out, s.name(), s.value());
  return out;
}

std::string SettingsText(const google::protobuf::RepeatedPtrField<v1::ServiceSetting>& settings) {
  std::string out;
  for (const auto& s : settings) {
    if (!out.empty()) out += " ";
    out += EscapeForLine(s.name()) + "=" + EscapeForLine(s.value());
  }
  return out.empty() ? "-" : out;
}

std::string Endpoints(const v1::ServiceInstanceInfo& instance) {
  return instance.endpoints().empty() ? "-" : Joined(instance.endpoints(), ",", true);
}

}  // namespace

nlohmann::json ServiceInstanceJson(const v1::ServiceInstanceInfo& i) {
  return nlohmann::json{{"service_id", i.service_id()},
                        {"store_id", i.store_id()},
                        {"store_name", i.store_name()},
                        {"mesh_id", i.mesh_id()},
                        {"status", i.status()},
                        {"reason", i.reason()},
                        {"pid", i.pid()},
                        {"endpoints", StringArray(i.endpoints())},
                        {"started_ms", i.started_ms()},
                        {"restarts", i.restarts()},
                        {"next_start_in_ms", i.next_start_in_ms()},
                        {"node_id", i.node_id()},
                        {"node_name", i.node_name()},
                        {"control", i.control()},
                        {"overrides", SettingsJson(i.overrides())}};
}

nlohmann::json ServiceDeclarationJson(const v1::ServiceDeclarationInfo& d) {
  return nlohmann::json{{"service_id", d.service_id()},
                        {"mesh_id", d.mesh_id()},
                        {"local", d.local()},
                        {"enabled", d.enabled()},
                        {"policy", d.policy()},
                        {"stores", StringArray(d.stores())},
                        {"settings", SettingsJson(d.settings())},
                        {"error", d.error()},
                        {"author", d.author()}};
}

nlohmann::json ServiceListJson(const v1::ListServicesResponse& response) {
  nlohmann::json descriptors = nlohmann::json::array();
  for (const auto& d : response.descriptors()) {
    nlohmann::json settings = nlohmann::json::array();
    for (const auto& s : d.settings()) {
      settings.push_back({{"name", s.name()},
                          {"type", s.type()},
                          {"default", s.default_value()},
                          {"has_default", s.has_default()},
                          {"constraint", s.constraint()},
                          {"secret", s.secret()},
                          {"port", s.port()}});
    }
    descriptors.push_back({{"id", d.id()},
                           {"description", d.description()},
                           {"binary", d.binary()},
                           {"binary_path", d.binary_path()},
                           {"store_type", d.store_type()},
                           {"path", d.path()},
                           {"rights", StringArray(d.rights())},
                           {"restart_policy", d.restart_policy()},
                           {"problem", d.problem()},
                           {"settings", settings}});
  }
  nlohmann::json meshes = nlohmann::json::array();
  for (const auto& m : response.meshes()) {
    nlohmann::json declarations = nlohmann::json::array();
    for (const auto& d : m.declarations()) declarations.push_back(ServiceDeclarationJson(d));
    nlohmann::json consents = nlohmann::json::array();
    for (const auto& c : m.consents()) consents.push_back(ConsentJson(c));
    nlohmann::json discovered = nlohmann::json::array();
    for (const auto& i : m.discovered()) discovered.push_back(ServiceInstanceJson(i));
    meshes.push_back({{"mesh_id", m.mesh_id()},
                      {"tags", StringArray(m.tags())},
                      {"declarations", declarations},
                      {"declarations_ignored", m.declarations_ignored()},
                      {"consents", consents},
                      {"discovered", discovered}});
  }
  nlohmann::json instances = nlohmann::json::array();
  for (const auto& i : response.instances()) instances.push_back(ServiceInstanceJson(i));
  nlohmann::json local = nlohmann::json::array();
  for (const auto& d : response.local_declarations()) local.push_back(ServiceDeclarationJson(d));
  return nlohmann::json{{"descriptors", descriptors},
                        {"descriptor_errors", StringArray(response.descriptor_errors())},
                        {"meshes", meshes},
                        {"instances", instances},
                        {"local_declarations", local}};
}

std::string ServiceListText(const v1::ListServicesResponse& response, uint64_t now_ms) {
  std::string out;
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : response.descriptors()) {
    std::vector<std::string> settings;
    for (const auto& s : d.settings()) {
      settings.push_back(s.has_default() ? s.name() + "=" + EscapeForLine(s.default_value()) : s.name());
    }
    std::string joined;
    for (const auto& s : settings) joined += (joined.empty() ? "" : " ") + s;
    rows.push_back({d.id(), d.store_type(),
                    d.binary_path().empty() ? "MISSING " + EscapeForLine(d.binary()) : EscapeForLine(d.binary_path()),
                    joined.empty() ? "-" : joined});
  }
  out += "descriptors:\n";
  out += rows.empty() ? "(none)\n" : FormatTable({"SERVICE", "STORE TYPE", "BINARY", "SETTINGS (defaults)"}, rows);
  for (const auto& e : response.descriptor_errors()) out += "skipped descriptor: " + EscapeForLine(e) + "\n";

  for (const auto& m : response.meshes()) {
    out += fmt::format("\nmesh {}: this node's tags: {}\n", m.mesh_id(),
                       m.tags().empty() ? "-" : Joined(m.tags(), ",", true));
    rows.clear();
    for (const auto& d : m.declarations()) {
      std::string stores = d.stores().empty() ? "-" : Joined(d.stores(), ",", true);
      rows.push_back({EscapeForLine(d.service_id()), stores, d.policy().empty() ? "-" : d.policy(),
                      d.enabled() ? "yes" : "no", SettingsText(d.settings()),
                      d.error().empty() ? "ok" : "REFUSED: " + EscapeForLine(d.error())});
    }
    out += rows.empty() ? "no declarations\n"
                        : FormatTable({"DECLARED", "STORES", "POLICY", "ENABLED", "SETTINGS", "HERE"}, rows);
    if (m.declarations_ignored() > 0) {
      out += fmt::format("({} more declarations ignored: over the limit)\n", m.declarations_ignored());
    }
    for (const auto& c : m.consents()) out += fmt::format("consent {}: {}\n", c.service_id(), c.consent());
    rows.clear();
    for (const auto& i : m.discovered()) {
      rows.push_back({Short(i.node_id()), i.node_name().empty() ? "-" : EscapeForLine(i.node_name()),
                      i.service_id(), StoreShown(i.store_name(), i.store_id()), i.status(), Endpoints(i),
                      std::to_string(i.restarts()),
                      i.started_ms() == 0 ? "-" : FormatAgoMs(i.started_ms(), now_ms)});
    }
    if (!rows.empty()) {
      out += FormatTable({"RUNS ON", "NAME", "SERVICE", "STORE", "STATUS", "ENDPOINTS", "RESTARTS", "STARTED"}, rows);
    }
  }

  out += "\ninstances on this node:\n";
  rows.clear();
  for (const auto& i : response.instances()) {
    std::string reason = EscapeForLine(i.reason());
    if (i.next_start_in_ms() >= 0 && i.status() == "backoff") {
      reason += fmt::format(" (next start in {})", FormatDurationMs(static_cast<uint64_t>(i.next_start_in_ms())));
    }
    rows.push_back({i.service_id(), StoreShown(i.store_name(), i.store_id()), i.status(),
                    i.pid() == 0 ? "-" : std::to_string(i.pid()), Endpoints(i), std::to_string(i.restarts()),
                    reason.empty() ? "-" : reason});
  }
  out += rows.empty() ? "(none)\n"
                      : FormatTable({"SERVICE", "STORE", "STATUS", "PID", "ENDPOINTS", "RESTARTS", "WHY"}, rows);
  for (const auto& d : response.local_declarations()) {
    out += fmt::format("local declaration {} for {}: {}\n", d.service_id(),
                       d.stores().empty() ? "-" : Joined(d.stores(), ",", true),
                       d.error().empty() ? SettingsText(d.settings()) : "REFUSED: " + EscapeForLine(d.error()));
  }
  return out;
}

std::string DeclarationLine(const v1::ServiceDeclarationInfo& d, bool undeclared) {
  std::string where = d.local() ? "on this node only" : "in mesh " + d.mesh_id();
  if (undeclared) {
    if (d.stores().empty()) return fmt::format("undeclared {} {}", d.service_id(), where);
    return fmt::format("{} stays declared {} for {}", d.service_id(), where, Joined(d.stores(), ",", true));
  }
  std::string line = fmt::format("declared {} {} for {} ({})", d.service_id(), where,
                                 Joined(d.stores(), ",", true), d.policy());
  if (!d.error().empty()) line += "; this node refuses it: " + EscapeForLine(d.error());
  return line;
}

std::string InstanceLine(const v1::ServiceInstanceInfo& i) {
  std::string line = fmt::format("{}@{}: {}", i.service_id(), StoreShown(i.store_name(), i.store_id()), i.status());
  if (!i.reason().empty()) line += " (" + EscapeForLine(i.reason()) + ")";
  if (!i.endpoints().empty()) line += " on " + Endpoints(i);
  return line;
}

std::string ConsentLine(const v1::ServiceConsentInfo& c) {
  return fmt::format("consent for {} in mesh {}: {}", c.service_id(), c.mesh_id(), c.consent());
}

nlohmann::json ConsentJson(const v1::ServiceConsentInfo& c) {
  return nlohmann::json{{"service_id", c.service_id()}, {"mesh_id", c.mesh_id()}, {"consent", c.consent()}};
}

std::string OverridesLine(const v1::ServiceOverridesResponse& r) {
  return fmt::format("overrides of {}@{}: {}", r.service_id(), Short(r.store_id()), SettingsText(r.overrides()));
}

nlohmann::json OverridesJson(const v1::ServiceOverridesResponse& r) {
  return nlohmann::json{{"service_id", r.service_id()},
                        {"store_id", r.store_id()},
                        {"overrides", SettingsJson(r.overrides())}};
}

std::string TagsLine(const v1::NodeTagsResponse& r) {
  return fmt::format("tags of this node in mesh {}: {}", r.mesh_id(),
                     r.tags().empty() ? "(none)" : Joined(r.tags(), ",", true));
}

nlohmann::json TagsJson(const v1::NodeTagsResponse& r) {
  return nlohmann::json{{"mesh_id", r.mesh_id()}, {"node_id", r.node_id()}, {"tags", StringArray(r.tags())}};
}

}  // namespace lattice::ctl
