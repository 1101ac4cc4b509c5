#include "lattice/common/status.h"
#include "services/launch.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

namespace lattice::services {

absl::StatusOr<std::string> ResolveBinary(const ServiceDescriptor& descriptor,
                                          const std::string& bin_dir) {
  std::string path = descriptor.binary.front() == '/' ? descriptor.binary
                                                      : bin_dir + "/" + descriptor.binary;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(fmt::format("binary {} not found", path));
  }
  if (!S_ISREG(info.st_mode) || ::access(path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(fmt::format("{} is not an executable file", path));
  }
  return path;
}

LaunchSpec BuildLaunch(const ServiceDescriptor& descriptor, const std::string& binary,
                       const std::string& store_id, const SettingValues& values,
                       const std::string& socket, const std::string& token) {
  LaunchSpec spec;
  spec.binary = binary;
  spec.argv = {binary, descriptor.store_flag + "=" + store_id};
  spec.argv.insert(spec.argv.end(), descriptor.args.begin(), descriptor.args.end());
  std::vector<std::string> shown = spec.argv;
  spec.socket = socket;
  spec.env = {"LATTICE_SOCKET=" + socket, "LATTICE_TOKEN=" + token};
  for (const auto& [name, value] : descriptor.environment) spec.env.push_back(name + "=" + value);
  for (const auto& setting : descriptor.settings) {
    auto it = values.find(setting.name);
    if (it == values.end()) continue;
    std::string text = SettingValueText(it->second);
    if (!setting.env.empty()) {
      spec.env.push_back(setting.env + "=" + text);
      continue;
    }
    if (setting.type == SettingType::kBool) {
      if (std::get<bool>(it->second)) {
        spec.argv.push_back(setting.flag);
        shown.push_back(setting.flag);
      }
      continue;
    }
    std::string shown_text = setting.secret ? "(secret)" : text;
    if (setting.flag.size() > 2 && setting.flag[1] == '-') {
      spec.argv.push_back(setting.flag + "=" + text);
      shown.push_back(setting.flag + "=" + shown_text);
    } else {
      spec.argv.insert(spec.argv.end(), {setting.flag, text});
      shown.insert(shown.end(), {setting.flag, shown_text});
    }
  }
  for (const auto& arg : shown) {
    if (!spec.shown.empty()) spec.shown += ' ';
    spec.shown += arg;
  }
  return spec;
}

std::optional<ReportedEndpoint> ParseListeningLine(std::string_view line) {
  constexpr std::string_view kMarker = "listening on ";
  size_t at = line.rfind(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view address = line.substr(at + kMarker.size());
  while (!address.empty() && (address.back() == '\r' || address.back() == ' ')) address.remove_suffix(1);
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= address.size()) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  std::string_view port_text = address.substr(colon + 1);
  int port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port <= 0 || port > 65535) {
    return std::nullopt;
  }
  for (char c : host) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '.' || c == ':' || c == '[' || c == ']';
    if (!ok || host.size() > 64) return std::nullopt;
  }
  return ReportedEndpoint{fmt::format("tcp://{}:{}", host, port), port};
}

}  // namespace lattice::services
