// libFuzzer target: service descriptor files (TOML) as an operator's --services-dir may hold
// them. Parsing must never crash, hang or throw, and a descriptor it accepts must be usable:
// every default passes its own checks and builds a command line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "services/descriptor.h"
#include "services/launch.h"
#include "services/settings.h"

using namespace lattice::services;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto descriptor = ParseDescriptor(text, "fuzz.toml", /*allow_absolute_binary=*/size % 2 == 0);
  if (!descriptor.ok()) return 0;
  auto values = ResolveSettings(*descriptor, nlohmann::json::object(), nlohmann::json::object());
  if (!values.ok()) __builtin_trap();  // defaults were checked when parsing
  LaunchSpec spec = BuildLaunch(*descriptor, "/bin/true", "00000000-0000-4000-8000-000000000000",
                                *values, "/run/k.sock", "lt1.x");
  if (spec.argv.empty() || spec.env.size() < 2) __builtin_trap();
  return 0;
}
