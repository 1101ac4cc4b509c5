#include "lattice/common/paths.h"

#include <cstdlib>
#include <filesystem>

namespace lattice {
namespace {
std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// systemd may pass several colon-separated directories; the first is ours.
std::string FirstOf(const std::string& list) { return list.substr(0, list.find(':')); }
}  // namespace

std::string DefaultDataDir() {
  if (auto dir = Env("LATTICE_DATA_DIR"); !dir.empty()) return dir;
  if (auto dir = Env("STATE_DIRECTORY"); !dir.empty()) return FirstOf(dir);
  if (auto dir = Env("XDG_DATA_HOME"); !dir.empty()) return dir + "/lattice";
  if (auto home = Env("HOME"); !home.empty()) return home + "/.local/share/lattice";
  return "/var/lib/lattice";
}

std::string DefaultSocketPath(const std::string& data_dir) {
  if (auto path = Env("LATTICE_SOCKET"); !path.empty()) return path;
  if (auto dir = Env("RUNTIME_DIRECTORY"); !dir.empty()) return FirstOf(dir) + "/kernel.sock";
  if (auto dir = Env("XDG_RUNTIME_DIR"); !dir.empty()) return dir + "/lattice/kernel.sock";
  return data_dir + "/kernel.sock";
}

std::string CookiePathForSocket(const std::string& socket_path) {
  std::filesystem::path socket(socket_path);
  std::string name = socket.filename().string();
  std::string cookie = name == "kernel.sock" ? "admin.cookie" : name + ".admin.cookie";
  return (socket.parent_path() / cookie).string();
}

}  // namespace lattice

namespace lattice {
std::string DefaultClientSocketPath() {
  if (auto path = Env("LATTICE_SOCKET"); !path.empty()) return path;
  const char* system_socket = "/run/lattice/kernel.sock";
  if (std::filesystem::exists(system_socket)) return system_socket;
  return DefaultSocketPath(DefaultDataDir());
}
}  // namespace lattice
