#include "services/settings.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <re2/re2.h>

#include "lattice/common/status.h"
#include "services/service_limits.h"

namespace lattice::services {
namespace {

bool HasControlCharacters(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// For messages: the value cut to a readable length, control characters escaped.
std::string Quoted(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 64)) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  if (text.size() > 64) out += "...";
  return "\"" + out + "\"";
}

}  // namespace

absl::Status CheckSettingValue(const ServiceDescriptor& descriptor, const SettingSpec& spec,
                               const SettingValue& value) {
  switch (spec.type) {
    case SettingType::kInt: {
      const auto* i = std::get_if<int64_t>(&value);
      if (i == nullptr) return absl::InvalidArgumentError(fmt::format("setting {} must be an integer", spec.name));
      if (spec.port && *i == 0 && descriptor.allow_zero_port) return absl::OkStatus();
      if ((spec.min && *i < *spec.min) || (spec.max && *i > *spec.max)) {
        return absl::InvalidArgumentError(fmt::format(
            "setting {} = {} is outside {}..{}{}", spec.name, *i, spec.min.value_or(INT64_MIN),
            spec.max.value_or(INT64_MAX), spec.port && descriptor.allow_zero_port ? " (or 0: any free port)" : ""));
      }
      if (spec.port && (*i < 0 || *i > 65535)) {
        return absl::InvalidArgumentError(fmt::format("setting {} = {} is not a TCP port", spec.name, *i));
      }
      if (spec.port && *i < 1024 && !descriptor.privileged_ports) {
        return absl::InvalidArgumentError(fmt::format(
            "setting {} = {} is a privileged port, which {} may not bind", spec.name, *i, descriptor.id));
      }
      return absl::OkStatus();
    }
    case SettingType::kBool:
      if (!std::holds_alternative<bool>(value)) {
        return absl::InvalidArgumentError(fmt::format("setting {} must be true or false", spec.name));
      }
      return absl::OkStatus();
    case SettingType::kString: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) return absl::InvalidArgumentError(fmt::format("setting {} must be a string", spec.name));
      if (s->size() > limits::kMaxSettingValueBytes) {
        return LimitExceeded(fmt::format("setting {}", spec.name), s->size(), limits::kMaxSettingValueBytes);
      }
      if (HasControlCharacters(*s)) {
        return absl::InvalidArgumentError(fmt::format("setting {} holds control characters", spec.name));
      }
      if (spec.regex && !RE2::FullMatch(*s, *spec.regex)) {
        return absl::InvalidArgumentError(fmt::format(
            "setting {} = {} does not match {}", spec.name, spec.secret ? "(secret)" : Quoted(*s), spec.pattern));
      }
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown setting type");
}

absl::StatusOr<SettingValue> SettingFromJson(const ServiceDescriptor& descriptor,
                                             const SettingSpec& spec, const nlohmann::json& value) {
  SettingValue out;
  switch (spec.type) {
    case SettingType::kInt:
      if (!value.is_number_integer()) {
        return absl::InvalidArgumentError(fmt::format("setting {} must be an integer, not {}", spec.name, value.type_name()));
      }
      out = value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                ? INT64_MAX
                : value.get<int64_t>();
      break;
    case SettingType::kBool:
      if (!value.is_boolean()) {
        return absl::InvalidArgumentError(fmt::format("setting {} must be true or false, not {}", spec.name, value.type_name()));
      }
      out = value.get<bool>();
      break;
    case SettingType::kString:
      if (!value.is_string()) {
        return absl::InvalidArgumentError(fmt::format("setting {} must be a string, not {}", spec.name, value.type_name()));
      }
      out = value.get<std::string>();
      break;
  }
  LATTICE_RETURN_IF_ERROR(CheckSettingValue(descriptor, spec, out));
  return out;
}

absl::StatusOr<SettingValue> SettingFromText(const ServiceDescriptor& descriptor,
                                             const SettingSpec& spec, std::string_view text) {
  SettingValue out;
  switch (spec.type) {
    case SettingType::kInt: {
      int64_t i = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (error != std::errc() || end != text.data() + text.size()) {
        return absl::InvalidArgumentError(fmt::format("setting {}: {} is not an integer", spec.name, Quoted(text)));
      }
      out = i;
      break;
    }
    case SettingType::kBool:
      if (text == "true") out = true;
      else if (text == "false") out = false;
      else return absl::InvalidArgumentError(fmt::format("setting {}: use true or false", spec.name));
      break;
    case SettingType::kString:
      out = std::string(text);
      break;
  }
  LATTICE_RETURN_IF_ERROR(CheckSettingValue(descriptor, spec, out));
  return out;
}

nlohmann::json SettingToJson(const SettingValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* b = std::get_if<bool>(&value)) return *b;
  return std::get<std::string>(value);
}

absl::StatusOr<SettingValues> ResolveSettings(const ServiceDescriptor& descriptor,
                                              const nlohmann::json& declared,
                                              const nlohmann::json& overrides) {
  SettingValues values;
  for (const auto& spec : descriptor.settings) {
    if (spec.default_value) values[spec.name] = *spec.default_value;
  }
  auto apply = [&](const nlohmann::json& object, std::string_view source) -> absl::Status {
    if (object.is_null()) return absl::OkStatus();
    if (!object.is_object()) return absl::InvalidArgumentError(fmt::format("{} must be an object", source));
    for (const auto& [name, value] : object.items()) {
      const SettingSpec* spec = descriptor.FindSetting(name);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(fmt::format("{}: {} has no setting {}", source,
                                                      descriptor.id, Quoted(name)));
      }
      auto checked = SettingFromJson(descriptor, *spec, value);
      if (!checked.ok()) {
        return absl::InvalidArgumentError(fmt::format("{}: {}", source, checked.status().message()));
      }
      values[name] = *std::move(checked);
    }
    return absl::OkStatus();
  };
  LATTICE_RETURN_IF_ERROR(apply(declared, "declaration"));
  LATTICE_RETURN_IF_ERROR(apply(overrides, "local override"));
  return values;
}

bool ExposesToNetwork(const SettingSpec& spec, const SettingValue& value) {
  if (spec.port) {
    const auto* port = std::get_if<int64_t>(&value);
    return port != nullptr && *port > 0 && *port < 1024;
  }
  if (!spec.listen_address) return false;
  const auto* address = std::get_if<std::string>(&value);
  if (address == nullptr) return false;
  in_addr v4{};
  if (::inet_pton(AF_INET, address->c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) != 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address->c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return false;
    return !(IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return true;  // not an address this check understands: assume the worst
}

absl::Status CheckMeshSettings(const ServiceDescriptor& descriptor, const std::string& store_id,
                               const nlohmann::json& declared, const nlohmann::json& overrides,
                               bool consent_always) {
  if (!declared.is_object()) return absl::OkStatus();  // ResolveSettings reports the shape
  for (const auto& [name, json] : declared.items()) {
    const SettingSpec* spec = descriptor.FindSetting(name);
    if (spec == nullptr) continue;
    std::string override_command = fmt::format("lattice-ctl service override {} --store {} {}=VALUE",
                                               descriptor.id, store_id, name);
    if (spec->secret) {
      return absl::PermissionDeniedError(fmt::format(
          "the mesh's declaration sets secret setting {}, which is never taken from the "
          "replicated root store; set it on this node only with `{}`",
          name, override_command));
    }
    if (spec->local) {
      return absl::PermissionDeniedError(fmt::format(
          "the mesh's declaration sets {}, a setting only each node decides for itself (it "
          "says where on this machine the daemon acts); set it on this node with `{}`",
          name, override_command));
    }
    if (overrides.is_object() && overrides.contains(name)) continue;  // this node decided
    auto value = SettingFromJson(descriptor, *spec, json);
    if (!value.ok() || !ExposesToNetwork(*spec, *value) || consent_always) continue;
    return absl::PermissionDeniedError(fmt::format(
        "the mesh's declaration sets {} = {}, which exposes the store to the network; this "
        "node follows that only with its own `{}` or `lattice-ctl service consent {} always`",
        name, SettingValueText(*value), override_command, descriptor.id));
  }
  return absl::OkStatus();
}

std::string ShownValue(const SettingSpec& spec, const SettingValue& value) {
  return spec.secret ? "(secret)" : SettingValueText(value);
}

}  // namespace lattice::services
