// Service descriptors (the "passport", DESIGN §8): one TOML file per daemon type that says
// what the daemon is, which binary runs it, what store it serves, which settings it takes and
// how they reach its command line or environment, the rights of its token and how it is
// supervised. The schema is documented in deploy/services/lattice.irc-gateway.toml.
// Descriptors are local files; nothing in them ever comes from mesh data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace lattice::services {

enum class SettingType { kInt, kString, kBool };
std::string_view SettingTypeName(SettingType type);

// The value of one setting, of its declared type.
using SettingValue = std::variant<int64_t, std::string, bool>;
// How a value is passed to the daemon: decimal, the string itself, "true" / "false".
std::string SettingValueText(const SettingValue& value);

struct SettingSpec {
  std::string name;
  SettingType type = SettingType::kString;
  std::optional<SettingValue> default_value;  // none: optional, passed not at all when unset
  std::optional<int64_t> min;                 // ints, inclusive
  std::optional<int64_t> max;
  std::string pattern;                        // strings: must match the whole value
  std::shared_ptr<const re2::RE2> regex;      // `pattern`, compiled (RE2: linear time)
  std::string flag;                           // exactly one of flag / env
  std::string env;
  bool secret = false;                        // never shown nor logged
  // Set only on this node (`service override`, a --local declaration), never by the mesh:
  // where a daemon touches the node's own machine (a mount point). Secret implies it.
  bool local = false;
  bool port = false;                          // a TCP port: checked for clashes
  bool listen_address = false;                // the address the daemon listens on
  int line = 0;                               // where it is declared
};

enum class RestartPolicy { kAlways, kOnFailure, kNever };
std::string_view RestartPolicyName(RestartPolicy policy);

struct RestartSpec {
  RestartPolicy policy = RestartPolicy::kOnFailure;
  uint32_t backoff_initial_ms = 500;
  uint32_t backoff_max_ms = 60'000;
  uint32_t start_limit_burst = 5;
  uint32_t start_limit_interval_s = 300;
  std::vector<int> no_restart_exit_codes;
  int stop_signal = 15;  // SIGTERM
  uint32_t stop_timeout_s = 10;
};

enum class PortReport { kNone, kStdoutLine };

// Immutable once parsed; safe to share between threads.
struct ServiceDescriptor {
  std::string id;
  std::string description;
  std::string binary;      // a bare name (the kernel's bin directory) or an absolute path
  std::string store_type;  // kv | chat | fs
  std::vector<std::string> token_rights;
  std::vector<std::string> token_prefixes;
  std::string store_flag;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> environment;
  PortReport port_report = PortReport::kNone;
  std::vector<SettingSpec> settings;
  bool privileged_ports = false;
  bool allow_zero_port = false;
  RestartSpec restart;
  std::string path;        // the file it came from

  const SettingSpec* FindSetting(std::string_view name) const;
};

// Parses one descriptor file's `text`. Errors are INVALID_ARGUMENT (or RESOURCE_EXHAUSTED for
// a limit) with a message "PATH:LINE: reason". An absolute `binary` is accepted only when
// `allow_absolute_binary` (a descriptor from a directory the operator named); otherwise it
// must be a bare file name.
absl::StatusOr<ServiceDescriptor> ParseDescriptor(std::string_view text, const std::string& path,
                                                  bool allow_absolute_binary);

// Service ids: 1 to 128 of [a-z0-9.-], starting with a letter or digit ("lattice.irc-gateway").
bool IsValidServiceId(std::string_view id);
// Setting names: 1 to 64 of [a-z0-9_], starting with a letter.
bool IsValidSettingName(std::string_view name);

}  // namespace lattice::services
