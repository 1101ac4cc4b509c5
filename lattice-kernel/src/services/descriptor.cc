#include "services/descriptor.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <re2/re2.h>
#include <set>
#include <toml++/toml.h>

#include "lattice/common/status.h"
#include "services/service_limits.h"
#include "services/settings.h"

namespace lattice::services {
namespace {

// Reads one TOML table, remembering which keys were consumed, so a key nobody asked for is
// reported with its line ("unknown keys are an error").
class TableReader {
 public:
  TableReader(const toml::table& table, const std::string& path, std::string context)
      : table_(table), path_(path), context_(std::move(context)) {}

  absl::Status Error(const toml::node* at, std::string_view reason) const {
    int line = at != nullptr ? static_cast<int>(at->source().begin.line) : Line();
    return absl::InvalidArgumentError(fmt::format("{}:{}: {}", path_, line, reason));
  }
  int Line() const { return static_cast<int>(table_.source().begin.line); }

  const toml::node* Get(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }

  absl::Status String(std::string_view key, std::string* out, bool required, size_t max_bytes) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) return Error(nullptr, fmt::format("{}\"{}\" is missing", context_, key));
      return absl::OkStatus();
    }
    if (!node->is_string()) return Error(node, fmt::format("{}\"{}\" must be a string", context_, key));
    *out = *node->value<std::string>();
    if (out->size() > max_bytes) {
      return Error(node, fmt::format("{}\"{}\" has {} bytes; at most {}", context_, key,
                                     out->size(), max_bytes));
    }
    if (out->find('\0') != std::string::npos) {
      return Error(node, fmt::format("{}\"{}\" holds a NUL byte", context_, key));
    }
    return absl::OkStatus();
  }

  absl::Status Int(std::string_view key, int64_t* out, bool required, int64_t min, int64_t max) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) return Error(nullptr, fmt::format("{}\"{}\" is missing", context_, key));
      return absl::OkStatus();
    }
    if (!node->is_integer()) return Error(node, fmt::format("{}\"{}\" must be an integer", context_, key));
    int64_t value = *node->value<int64_t>();
    if (value < min || value > max) {
      return Error(node, fmt::format("{}\"{}\" = {} is outside {}..{}", context_, key, value, min, max));
    }
    *out = value;
    return absl::OkStatus();
  }

  template <typename T>
  absl::Status Uint(std::string_view key, T* out, int64_t min, int64_t max) {
    int64_t value = static_cast<int64_t>(*out);
    LATTICE_RETURN_IF_ERROR(Int(key, &value, false, min, max));
    *out = static_cast<T>(value);
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool* out) {
    const toml::node* node = Get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_boolean()) return Error(node, fmt::format("{}\"{}\" must be true or false", context_, key));
    *out = *node->value<bool>();
    return absl::OkStatus();
  }

  absl::Status Strings(std::string_view key, std::vector<std::string>* out, size_t max_items,
                       size_t max_bytes) {
    const toml::node* node = Get(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr) return Error(node, fmt::format("{}\"{}\" must be an array of strings", context_, key));
    if (array->size() > max_items) {
      return Error(node, fmt::format("{}\"{}\" has {} items; at most {}", context_, key,
                                     array->size(), max_items));
    }
    for (const auto& item : *array) {
      if (!item.is_string()) {
        return Error(&item, fmt::format("{}\"{}\" must be an array of strings", context_, key));
      }
      std::string value = *item.value<std::string>();
      if (value.size() > max_bytes || value.find('\0') != std::string::npos) {
        return Error(&item, fmt::format("{}an item of \"{}\" is too long or holds a NUL byte",
                                        context_, key));
      }
      out->push_back(std::move(value));
    }
    return absl::OkStatus();
  }

  // Sub-tables, for the caller to read with readers of their own.
  absl::StatusOr<const toml::table*> Table(std::string_view key) {
    const toml::node* node = Get(key);
    if (node == nullptr) return nullptr;
    const toml::table* table = node->as_table();
    if (table == nullptr) return Error(node, fmt::format("{}[{}] must be a table", context_, key));
    return table;
  }

  absl::Status CheckUnknown() const {
    for (const auto& [key, value] : table_) {
      if (!seen_.count(std::string(key.str()))) {
        return Error(&value, fmt::format("{}unknown key \"{}\"", context_, key.str()));
      }
    }
    return absl::OkStatus();
  }

 private:
  const toml::table& table_;
  const std::string& path_;
  std::string context_;
  std::set<std::string> seen_;
};

bool IsEnvName(std::string_view name) {
  if (name.empty() || name.size() > 128 || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsFlag(std::string_view flag) {
  if (flag.size() < 2 || flag.size() > 64 || flag[0] != '-') return false;
  return std::all_of(flag.begin() + 1, flag.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsReservedEnv(std::string_view name) {
  return name == "LATTICE_SOCKET" || name == "LATTICE_TOKEN";
}

absl::StatusOr<int> ParseSignal(std::string_view name) {
  if (name == "SIGTERM") return SIGTERM;
  if (name == "SIGINT") return SIGINT;
  if (name == "SIGHUP") return SIGHUP;
  if (name == "SIGQUIT") return SIGQUIT;
  if (name == "SIGUSR1") return SIGUSR1;
  if (name == "SIGUSR2") return SIGUSR2;
  return absl::InvalidArgumentError(fmt::format(
      "stop_signal \"{}\" is not one of SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2", name));
}

absl::Status ParseSetting(const toml::table& table, const std::string& path, SettingSpec* spec) {
  TableReader r(table, path, "setting: ");
  spec->line = r.Line();
  LATTICE_RETURN_IF_ERROR(r.String("name", &spec->name, true, limits::kMaxSettingNameBytes));
  if (!IsValidSettingName(spec->name)) {
    return r.Error(table.get("name"), fmt::format("setting name \"{}\" must be [a-z][a-z0-9_]*", spec->name));
  }
  TableReader s(table, path, fmt::format("setting {}: ", spec->name));
  (void)s.Get("name");
  std::string type;
  LATTICE_RETURN_IF_ERROR(s.String("type", &type, true, 16));
  if (type == "int") spec->type = SettingType::kInt;
  else if (type == "string") spec->type = SettingType::kString;
  else if (type == "bool") spec->type = SettingType::kBool;
  else return s.Error(table.get("type"), fmt::format("setting {}: type \"{}\" is not int, string or bool", spec->name, type));

  if (const toml::node* min = table.get("min")) {
    int64_t v = 0;
    LATTICE_RETURN_IF_ERROR(s.Int("min", &v, true, INT64_MIN, INT64_MAX));
    if (spec->type != SettingType::kInt) return s.Error(min, fmt::format("setting {}: min is for int settings", spec->name));
    spec->min = v;
  }
  if (const toml::node* max = table.get("max")) {
    int64_t v = 0;
    LATTICE_RETURN_IF_ERROR(s.Int("max", &v, true, INT64_MIN, INT64_MAX));
    if (spec->type != SettingType::kInt) return s.Error(max, fmt::format("setting {}: max is for int settings", spec->name));
    spec->max = v;
  }
  if (spec->min && spec->max && *spec->min > *spec->max) {
    return s.Error(table.get("min"), fmt::format("setting {}: min {} is above max {}", spec->name, *spec->min, *spec->max));
  }
  LATTICE_RETURN_IF_ERROR(s.String("pattern", &spec->pattern, false, limits::kMaxPatternBytes));
  if (!spec->pattern.empty()) {
    if (spec->type != SettingType::kString) {
      return s.Error(table.get("pattern"), fmt::format("setting {}: pattern is for string settings", spec->name));
    }
    // RE2, not std::regex: a pattern is matched against values that come from the mesh, and
    // RE2 matches in linear time with bounded memory and stack, where std::regex backtracks
    // and recurses (and overflows on repetition counts like a{99999999999}).
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(limits::kMaxPatternMemoryBytes);
    auto regex = std::make_shared<const RE2>(spec->pattern, options);
    if (!regex->ok()) {
      return s.Error(table.get("pattern"), fmt::format("setting {}: pattern does not compile: {}", spec->name, regex->error()));
    }
    spec->regex = std::move(regex);
  } else if (spec->type == SettingType::kString) {
    // Strings come from the mesh: each must be held to a shape the daemon expects.
    return s.Error(nullptr, fmt::format("setting {}: a string setting needs a pattern", spec->name));
  }
  LATTICE_RETURN_IF_ERROR(s.String("flag", &spec->flag, false, 64));
  LATTICE_RETURN_IF_ERROR(s.String("env", &spec->env, false, 128));
  if (spec->flag.empty() == spec->env.empty()) {
    return s.Error(nullptr, fmt::format("setting {}: give exactly one of flag and env", spec->name));
  }
  if (!spec->flag.empty() && !IsFlag(spec->flag)) {
    return s.Error(table.get("flag"), fmt::format("setting {}: flag \"{}\" is not an option name like --port", spec->name, spec->flag));
  }
  if (!spec->env.empty() && (!IsEnvName(spec->env) || IsReservedEnv(spec->env))) {
    return s.Error(table.get("env"), fmt::format("setting {}: env \"{}\" is not a usable variable name", spec->name, spec->env));
  }
  LATTICE_RETURN_IF_ERROR(s.Bool("secret", &spec->secret));
  LATTICE_RETURN_IF_ERROR(s.Bool("local", &spec->local));
  if (spec->secret) spec->local = true;
  LATTICE_RETURN_IF_ERROR(s.Bool("port", &spec->port));
  LATTICE_RETURN_IF_ERROR(s.Bool("listen_address", &spec->listen_address));
  if (spec->listen_address && spec->type != SettingType::kString) {
    return s.Error(table.get("listen_address"),
                   fmt::format("setting {}: only a string setting can be a listen address", spec->name));
  }
  if (spec->port && spec->type != SettingType::kInt) {
    return s.Error(table.get("port"), fmt::format("setting {}: only an int setting can be a port", spec->name));
  }
  if (const toml::node* d = s.Get("default")) {
    switch (spec->type) {
      case SettingType::kInt:
        if (!d->is_integer()) return s.Error(d, fmt::format("setting {}: default must be an integer", spec->name));
        spec->default_value = *d->value<int64_t>();
        break;
      case SettingType::kString:
        if (!d->is_string()) return s.Error(d, fmt::format("setting {}: default must be a string", spec->name));
        spec->default_value = *d->value<std::string>();
        break;
      case SettingType::kBool:
        if (!d->is_boolean()) return s.Error(d, fmt::format("setting {}: default must be true or false", spec->name));
        spec->default_value = *d->value<bool>();
        break;
    }
  }
  return s.CheckUnknown();
}

}  // namespace

std::string_view SettingTypeName(SettingType type) {
  switch (type) {
    case SettingType::kInt: return "int";
    case SettingType::kString: return "string";
    case SettingType::kBool: return "bool";
  }
  return "unknown";
}

std::string SettingValueText(const SettingValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return std::get<std::string>(value);
}

std::string_view RestartPolicyName(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kAlways: return "always";
    case RestartPolicy::kOnFailure: return "on-failure";
    case RestartPolicy::kNever: return "never";
  }
  return "unknown";
}

const SettingSpec* ServiceDescriptor::FindSetting(std::string_view name) const {
  for (const auto& s : settings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool IsValidServiceId(std::string_view id) {
  if (id.empty() || id.size() > limits::kMaxServiceIdBytes) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(id.front())) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

bool IsValidSettingName(std::string_view name) {
  if (name.empty() || name.size() > limits::kMaxSettingNameBytes) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

absl::StatusOr<ServiceDescriptor> ParseDescriptor(std::string_view text, const std::string& path,
                                                  bool allow_absolute_binary) {
  if (text.size() > limits::kMaxDescriptorBytes) {
    return LimitExceeded(fmt::format("descriptor {}", path), text.size(), limits::kMaxDescriptorBytes);
  }
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  ServiceDescriptor d;
  d.path = path;
  TableReader r(root, path, "");
  int64_t schema_version = 0;
  LATTICE_RETURN_IF_ERROR(r.Int("schema_version", &schema_version, true, 1, 1000));
  if (schema_version != 1) {
    return r.Error(root.get("schema_version"),
                   fmt::format("schema_version {} is not supported (this kernel reads 1)", schema_version));
  }
  LATTICE_RETURN_IF_ERROR(r.String("id", &d.id, true, limits::kMaxServiceIdBytes));
  if (!IsValidServiceId(d.id)) {
    return r.Error(root.get("id"), fmt::format("id \"{}\" must be [a-z0-9][a-z0-9.-]*", d.id));
  }
  LATTICE_RETURN_IF_ERROR(r.String("description", &d.description, false, limits::kMaxDescriptionBytes));
  LATTICE_RETURN_IF_ERROR(r.String("binary", &d.binary, true, 4096));
  if (d.binary.empty()) return r.Error(root.get("binary"), "binary is empty");
  if (d.binary.front() == '/') {
    if (!allow_absolute_binary) {
      return r.Error(root.get("binary"),
                     "binary must be a bare name (resolved in the kernel's bin directory); an "
                     "absolute path is accepted only from an operator's --services-dir");
    }
  } else if (d.binary.find('/') != std::string::npos || d.binary == "." || d.binary == "..") {
    return r.Error(root.get("binary"), fmt::format("binary \"{}\" must be a bare file name", d.binary));
  }
  LATTICE_RETURN_IF_ERROR(r.String("store_type", &d.store_type, true, 16));
  if (d.store_type != "kv" && d.store_type != "chat" && d.store_type != "fs") {
    return r.Error(root.get("store_type"),
                   fmt::format("store_type \"{}\" is not kv, chat or fs", d.store_type));
  }

  LATTICE_ASSIGN_OR_RETURN(const toml::table* token, r.Table("token"));
  if (token == nullptr) return r.Error(nullptr, "[token] is missing: a daemon needs rights");
  {
    TableReader t(*token, path, "token: ");
    LATTICE_RETURN_IF_ERROR(t.Strings("rights", &d.token_rights, 3, 16));
    if (d.token_rights.empty()) return t.Error(token->get("rights"), "token: rights must name at least one right");
    for (const auto& right : d.token_rights) {
      if (right != "read" && right != "write" && right != "watch" && right != "metrics") {
        return t.Error(token->get("rights"), fmt::format("token: right \"{}\" is not read, write, watch or metrics", right));
      }
    }
    LATTICE_RETURN_IF_ERROR(t.Strings("prefixes", &d.token_prefixes, limits::kMaxTokenPrefixes, 4096));
    LATTICE_RETURN_IF_ERROR(t.CheckUnknown());
  }

  LATTICE_ASSIGN_OR_RETURN(const toml::table* invocation, r.Table("invocation"));
  if (invocation == nullptr) return r.Error(nullptr, "[invocation] is missing");
  {
    TableReader t(*invocation, path, "invocation: ");
    LATTICE_RETURN_IF_ERROR(t.String("store_flag", &d.store_flag, true, 64));
    if (!IsFlag(d.store_flag)) {
      return t.Error(invocation->get("store_flag"), fmt::format("invocation: store_flag \"{}\" is not an option name", d.store_flag));
    }
    LATTICE_RETURN_IF_ERROR(t.Strings("args", &d.args, limits::kMaxFixedArgs, limits::kMaxArgBytes));
    LATTICE_ASSIGN_OR_RETURN(const toml::table* env, t.Table("environment"));
    if (env != nullptr) {
      if (env->size() > limits::kMaxFixedEnvironment) {
        return t.Error(invocation->get("environment"), "invocation: environment has too many entries");
      }
      for (const auto& [key, value] : *env) {
        std::string name(key.str());
        if (!IsEnvName(name) || IsReservedEnv(name)) {
          return t.Error(&value, fmt::format("invocation: environment variable \"{}\" is not allowed", name));
        }
        if (!value.is_string() || value.value<std::string>()->size() > limits::kMaxArgBytes) {
          return t.Error(&value, fmt::format("invocation: environment {} must be a short string", name));
        }
        d.environment.emplace_back(name, *value.value<std::string>());
      }
    }
    std::string report = "none";
    LATTICE_RETURN_IF_ERROR(t.String("port_report", &report, false, 32));
    if (report == "none") d.port_report = PortReport::kNone;
    else if (report == "stdout-line") d.port_report = PortReport::kStdoutLine;
    else return t.Error(invocation->get("port_report"), fmt::format("invocation: port_report \"{}\" is not none or stdout-line", report));
    LATTICE_RETURN_IF_ERROR(t.CheckUnknown());
  }

  if (const toml::node* settings = r.Get("settings")) {
    const toml::array* array = settings->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return r.Error(settings, "settings must be written as [[settings]] tables");
    }
    if (array->size() > limits::kMaxSettings) {
      return r.Error(settings, fmt::format("{} settings; at most {}", array->size(), limits::kMaxSettings));
    }
    for (const auto& item : *array) {
      SettingSpec spec;
      LATTICE_RETURN_IF_ERROR(ParseSetting(*item.as_table(), path, &spec));
      if (d.FindSetting(spec.name) != nullptr) {
        return r.Error(&item, fmt::format("setting {} is declared twice", spec.name));
      }
      d.settings.push_back(std::move(spec));
    }
  }

  LATTICE_ASSIGN_OR_RETURN(const toml::table* ports, r.Table("ports"));
  if (ports != nullptr) {
    TableReader t(*ports, path, "ports: ");
    LATTICE_RETURN_IF_ERROR(t.Bool("privileged", &d.privileged_ports));
    LATTICE_RETURN_IF_ERROR(t.Bool("allow_zero", &d.allow_zero_port));
    LATTICE_RETURN_IF_ERROR(t.CheckUnknown());
  }
  if (d.allow_zero_port && d.port_report == PortReport::kNone) {
    return r.Error(ports != nullptr ? ports->get("allow_zero") : nullptr,
                   "ports: allow_zero needs invocation.port_report, or nobody learns the port");
  }

  LATTICE_ASSIGN_OR_RETURN(const toml::table* restart, r.Table("restart"));
  if (restart != nullptr) {
    TableReader t(*restart, path, "restart: ");
    std::string policy = "on-failure";
    LATTICE_RETURN_IF_ERROR(t.String("policy", &policy, false, 16));
    if (policy == "always") d.restart.policy = RestartPolicy::kAlways;
    else if (policy == "on-failure") d.restart.policy = RestartPolicy::kOnFailure;
    else if (policy == "never") d.restart.policy = RestartPolicy::kNever;
    else return t.Error(restart->get("policy"), fmt::format("restart: policy \"{}\" is not always, on-failure or never", policy));
    LATTICE_RETURN_IF_ERROR(t.Uint("backoff_initial_ms", &d.restart.backoff_initial_ms, 1, limits::kMaxBackoffMs));
    LATTICE_RETURN_IF_ERROR(t.Uint("backoff_max_ms", &d.restart.backoff_max_ms, 1, limits::kMaxBackoffMs));
    if (d.restart.backoff_max_ms < d.restart.backoff_initial_ms) {
      return t.Error(restart->get("backoff_max_ms"), "restart: backoff_max_ms is below backoff_initial_ms");
    }
    LATTICE_RETURN_IF_ERROR(t.Uint("start_limit_burst", &d.restart.start_limit_burst, 1, limits::kMaxStartLimitBurst));
    LATTICE_RETURN_IF_ERROR(t.Uint("start_limit_interval_s", &d.restart.start_limit_interval_s, 1, limits::kMaxStartLimitIntervalS));
    std::vector<std::string> unused;
    if (const toml::node* codes = t.Get("no_restart_exit_codes")) {
      const toml::array* array = codes->as_array();
      if (array == nullptr || array->size() > limits::kMaxNoRestartExitCodes) {
        return t.Error(codes, "restart: no_restart_exit_codes must be a short array of integers");
      }
      for (const auto& code : *array) {
        if (!code.is_integer() || *code.value<int64_t>() < 0 || *code.value<int64_t>() > 255) {
          return t.Error(&code, "restart: an exit code is an integer from 0 to 255");
        }
        d.restart.no_restart_exit_codes.push_back(static_cast<int>(*code.value<int64_t>()));
      }
    }
    std::string signal = "SIGTERM";
    LATTICE_RETURN_IF_ERROR(t.String("stop_signal", &signal, false, 16));
    auto parsed = ParseSignal(signal);
    if (!parsed.ok()) return t.Error(restart->get("stop_signal"), "restart: " + std::string(parsed.status().message()));
    d.restart.stop_signal = *parsed;
    LATTICE_RETURN_IF_ERROR(t.Uint("stop_timeout_s", &d.restart.stop_timeout_s, 1, limits::kMaxStopTimeoutS));
    LATTICE_RETURN_IF_ERROR(t.CheckUnknown());
  }
  LATTICE_RETURN_IF_ERROR(r.CheckUnknown());

  // A default must pass the checks any other value passes.
  for (const auto& spec : d.settings) {
    if (!spec.default_value) continue;
    if (auto s = CheckSettingValue(d, spec, *spec.default_value); !s.ok()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: default of {}", path, spec.line, s.message()));
    }
  }
  return d;
}

}  // namespace lattice::services
