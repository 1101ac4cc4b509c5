#include "lattice/common/status.h"
#include "config/kernel_config.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <toml++/toml.h>

#include "lattice/common/paths.h"

namespace lattice::kernel {
namespace {

void FromEnv(const char* name, std::string* out) {
  if (const char* value = std::getenv(name); value != nullptr && *value != '\0') *out = value;
}

absl::Status ApplyToml(const std::string& path, KernelConfig* config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(fmt::format(
        "config {}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description()));
  }
  for (const auto& [key, value] : table) {
    std::string_view k = key.str();
    if (k == "data_dir" && value.is_string()) config->data_dir = *value.value<std::string>();
    else if (k == "socket" && value.is_string()) config->socket = *value.value<std::string>();
    else if (k == "name" && value.is_string()) config->name = *value.value<std::string>();
    else if (k == "log_level" && value.is_string()) config->log_level = *value.value<std::string>();
    else if (k == "min_free_bytes" && value.is_integer() && *value.value<int64_t>() >= 0) {
      config->min_free_bytes = static_cast<uint64_t>(*value.value<int64_t>());
    } else {
      return absl::InvalidArgumentError(fmt::format(
          "config {}: unknown key or wrong type: \"{}\"", path, k));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KernelConfig> LoadKernelConfig(int argc, char** argv, int* exit_code) {
  *exit_code = -1;
  CLI::App app{"lattice-kernel: the Lattice node process (stores, identity, Store Protocol)"};
  std::string config_path, data_dir, socket, name, log_level;
  int64_t min_free_bytes = -1;
  app.add_option("--config", config_path, "TOML configuration file");
  app.add_option("--data-dir", data_dir, "data directory (default: $LATTICE_DATA_DIR or ~/.local/share/lattice)");
  app.add_option("--socket", socket, "Unix socket of the Store Protocol");
  app.add_option("--name", name, "this node's human name");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  app.add_option("--min-free-bytes", min_free_bytes, "refuse writes when less disk is free");
  app.set_version_flag("--version", LATTICE_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    *exit_code = app.exit(e);
    return absl::CancelledError("exit");
  } catch (const CLI::ParseError& e) {
    std::cerr << "lattice-kernel: " << e.what() << "\n";
    *exit_code = 2;
    return absl::InvalidArgumentError(e.what());
  }

  KernelConfig config;
  FromEnv("LATTICE_CONFIG", &config_path);
  if (!config_path.empty()) {
    if (auto s = ApplyToml(config_path, &config); !s.ok()) return s;
  }
  FromEnv("LATTICE_DATA_DIR", &config.data_dir);
  FromEnv("LATTICE_SOCKET", &config.socket);
  FromEnv("LATTICE_NAME", &config.name);
  FromEnv("LATTICE_LOG_LEVEL", &config.log_level);
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!socket.empty()) config.socket = socket;
  if (!name.empty()) config.name = name;
  if (!log_level.empty()) config.log_level = log_level;
  if (min_free_bytes >= 0) config.min_free_bytes = static_cast<uint64_t>(min_free_bytes);
  if (config.data_dir.empty()) config.data_dir = DefaultDataDir();
  if (config.socket.empty()) config.socket = DefaultSocketPath(config.data_dir);
  return config;
}

}  // namespace lattice::kernel
