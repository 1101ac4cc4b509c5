// libFuzzer target: what a hostile mesh member can write for the ServiceManager to read:
// declarations (/services/{id}/config), their setting values against the shipped IRC
// gateway descriptor, tags and discovery records. Nothing may crash or throw, and settings
// that pass the checks must build a command line without a shell's help.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "services/declaration.h"
#include "services/descriptor.h"
#include "services/launch.h"
#include "services/discovery_record.h"
#include "services/settings.h"

using namespace lattice;
using namespace lattice::services;

namespace {

const ServiceDescriptor& Gateway() {
  static const ServiceDescriptor descriptor = [] {
    std::string path = std::string(LATTICE_SOURCE_DIR) + "/deploy/services/lattice.irc-gateway.toml";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = ParseDescriptor(text.str(), path, false);
    if (!parsed.ok()) __builtin_trap();
    return *parsed;
  }();
  return descriptor;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool local : {false, true}) {
    auto declaration = ParseDeclaration(text, local);
    if (!declaration.ok()) continue;
    (void)SerializeDeclaration(*declaration);
    auto values = ResolveSettings(Gateway(), declaration->settings, nlohmann::json::object());
    if (!values.ok()) continue;
    LaunchSpec spec = BuildLaunch(Gateway(), "/bin/true", declaration->stores.front(), *values,
                                  "/run/k.sock", "lt1.x");
    for (const auto& arg : spec.argv) {
      for (char c : arg) {
        if (c == '\0' || c == '\n') __builtin_trap();
      }
    }
  }
  (void)ParseTags(text);
  (void)ParsePolicy(text);
  (void)ParseDiscovery(text);
  (void)ParseListeningLine(text);
  return 0;
}
