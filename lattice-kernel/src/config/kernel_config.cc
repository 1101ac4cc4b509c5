#include "lattice/common/status.h"
#include "config/kernel_config.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <toml++/toml.h>

#include "absl/strings/numbers.h"
#include "lattice/common/files.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"

namespace lattice::kernel {
namespace {

// A memtable larger than this would be a typo rather than a choice (and would hold RAM).
constexpr int64_t kMaxWriteBufferMb = 1024;

void FromEnv(const char* name, std::string* out) {
  if (const char* value = std::getenv(name); value != nullptr && *value != '\0') *out = value;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

absl::Status ApplyToml(const std::string& path, KernelConfig* config) {
  // Bounded and non-blocking: a FIFO or a link to /dev/zero given as the config is refused.
  auto text = ReadFileBounded(path, limits::kMaxConfigFileBytes);
  if (!text.ok()) return absl::InvalidArgumentError(fmt::format("config {}", text.status().message()));
  toml::table table;
  try {
    table = toml::parse(*text, path);
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
    } else if (k == "write_buffer_mb" && value.is_integer() && *value.value<int64_t>() >= 1 &&
               *value.value<int64_t>() <= kMaxWriteBufferMb) {
      config->write_buffer_mb = static_cast<uint64_t>(*value.value<int64_t>());
    } else if (k == "listen" && value.is_string()) {
      config->listen = *value.value<std::string>();
    } else if (k == "advertise" && value.is_array()) {
      config->advertise.clear();
      for (const auto& item : *value.as_array()) {
        if (!item.is_string()) {
          return absl::InvalidArgumentError(
              fmt::format("config {}: \"advertise\" must be a list of \"HOST:PORT\" strings", path));
        }
        config->advertise.push_back(*item.value<std::string>());
      }
    } else if (k == "services_dirs" && value.is_array()) {
      config->services_dirs.clear();
      for (const auto& item : *value.as_array()) {
        if (!item.is_string()) {
          return absl::InvalidArgumentError(
              fmt::format("config {}: \"services_dirs\" must be a list of directories", path));
        }
        config->services_dirs.push_back(*item.value<std::string>());
      }
    } else if (k == "bin_dir" && value.is_string()) {
      config->bin_dir = *value.value<std::string>();
    } else if (k == "sync_interval_ms" && value.is_integer() && *value.value<int64_t>() > 0) {
      config->sync_interval_ms = static_cast<uint64_t>(*value.value<int64_t>());
    } else if (k == "fs_gc_interval_ms" && value.is_integer() && *value.value<int64_t>() >= 0) {
      config->fs_gc_interval_ms = static_cast<uint64_t>(*value.value<int64_t>());
    } else if (k == "fs_gc_grace_ms" && value.is_integer() && *value.value<int64_t>() >= 0) {
      config->fs_gc_grace_ms = static_cast<uint64_t>(*value.value<int64_t>());
    } else if (k == "fs_gc_touch_ms" && value.is_integer() && *value.value<int64_t>() >= 0) {
      config->fs_gc_touch_ms = static_cast<uint64_t>(*value.value<int64_t>());
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
  int64_t write_buffer_mb = -1;
  std::string listen;
  bool listen_given = false;
  std::vector<std::string> advertise;
  int64_t sync_interval_ms = -1;
  int64_t fs_gc_interval_ms = -1;
  int64_t fs_gc_grace_ms = -1;
  int64_t fs_gc_touch_ms = -1;
  std::vector<std::string> services_dirs;
  std::string bin_dir;
  app.add_option("--services-dir", services_dirs,
                 "directory of service descriptors (repeatable; default: "
                 "<bin>/../share/lattice/services beside the kernel)");
  app.add_option("--bin-dir", bin_dir,
                 "where daemons named by a bare binary name are found (default: the kernel's "
                 "own directory)");
  app.add_option("--config", config_path, "TOML configuration file");
  app.add_option("--data-dir", data_dir, "data directory (default: $LATTICE_DATA_DIR or ~/.local/share/lattice)");
  app.add_option("--socket", socket, "Unix socket of the Store Protocol");
  app.add_option("--name", name, "this node's human name");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  app.add_option("--min-free-bytes", min_free_bytes, "refuse writes when less disk is free");
  app.add_option("--write-buffer-mb", write_buffer_mb,
                 "memtable of each store's LevelDB in MiB, the memory a busy store may hold "
                 "(default 64)")
      ->check(CLI::Range(int64_t{1}, kMaxWriteBufferMb));
  auto* listen_option = app.add_option(
      "--listen", listen, "HOST:PORT to accept peer links on (default 0.0.0.0:7470; \"\" = none)");
  app.add_option("--advertise", advertise,
                 "HOST:PORT peers should dial (repeatable; default: the listen address)");
  app.add_option("--sync-interval-ms", sync_interval_ms,
                 "period of anti-entropy with each peer, in milliseconds (default 30000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--fs-gc-interval-ms", fs_gc_interval_ms,
                 "period of the chunk collection of fs stores, in milliseconds (default "
                 "300000; 0 = never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fs-gc-grace-ms", fs_gc_grace_ms,
                 "how long content no file shows any more is kept, in milliseconds (default "
                 "600000)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fs-gc-touch-ms", fs_gc_touch_ms,
                 "how long a chunk uploaded, checked or read is kept whatever cites it, in "
                 "milliseconds (default 600000; longer than any upload before its commit)")
      ->check(CLI::NonNegativeNumber);
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

  listen_given = listen_option->count() > 0;
  KernelConfig config;
  FromEnv("LATTICE_CONFIG", &config_path);
  if (!config_path.empty()) {
    if (auto s = ApplyToml(config_path, &config); !s.ok()) return s;
  }
  FromEnv("LATTICE_DATA_DIR", &config.data_dir);
  FromEnv("LATTICE_SOCKET", &config.socket);
  FromEnv("LATTICE_NAME", &config.name);
  FromEnv("LATTICE_LOG_LEVEL", &config.log_level);
  FromEnv("LATTICE_LISTEN", &config.listen);
  std::string advertise_env;
  FromEnv("LATTICE_ADVERTISE", &advertise_env);
  if (!advertise_env.empty()) config.advertise = SplitCommas(advertise_env);
  std::string sync_interval_env;
  FromEnv("LATTICE_SYNC_INTERVAL_MS", &sync_interval_env);
  if (!sync_interval_env.empty()) {
    int64_t parsed = 0;
    if (!absl::SimpleAtoi(sync_interval_env, &parsed) || parsed <= 0) {
      return absl::InvalidArgumentError(fmt::format(
          "LATTICE_SYNC_INTERVAL_MS must be a positive number of milliseconds, not \"{}\"",
          sync_interval_env));
    }
    config.sync_interval_ms = static_cast<uint64_t>(parsed);
  }
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!socket.empty()) config.socket = socket;
  if (!name.empty()) config.name = name;
  if (!log_level.empty()) config.log_level = log_level;
  if (min_free_bytes >= 0) config.min_free_bytes = static_cast<uint64_t>(min_free_bytes);
  if (write_buffer_mb >= 0) config.write_buffer_mb = static_cast<uint64_t>(write_buffer_mb);
  if (listen_given) config.listen = listen;
  if (!advertise.empty()) config.advertise = advertise;
  std::string services_env;
  FromEnv("LATTICE_SERVICES_DIRS", &services_env);
  if (!services_env.empty()) config.services_dirs = SplitCommas(services_env);
  FromEnv("LATTICE_BIN_DIR", &config.bin_dir);
  if (!services_dirs.empty()) config.services_dirs = services_dirs;
  if (!bin_dir.empty()) config.bin_dir = bin_dir;
  if (sync_interval_ms > 0) config.sync_interval_ms = static_cast<uint64_t>(sync_interval_ms);
  if (fs_gc_interval_ms >= 0) config.fs_gc_interval_ms = static_cast<uint64_t>(fs_gc_interval_ms);
  if (fs_gc_grace_ms >= 0) config.fs_gc_grace_ms = static_cast<uint64_t>(fs_gc_grace_ms);
  if (fs_gc_touch_ms >= 0) config.fs_gc_touch_ms = static_cast<uint64_t>(fs_gc_touch_ms);
  if (config.data_dir.empty()) config.data_dir = DefaultDataDir();
  if (config.socket.empty()) config.socket = DefaultSocketPath(config.data_dir);
  return config;
}

}  // namespace lattice::kernel
