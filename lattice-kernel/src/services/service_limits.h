// Every size and count the ServiceManager accepts from outside: descriptor files (local, but
// read from directories an operator points at), declarations in a mesh's root store (written
// by any member, so hostile), local settings and the output of the daemons it runs. Errors
// that enforce them name the limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lattice::services::limits {

// ---- descriptors (TOML files) ----
inline constexpr size_t kMaxDescriptorBytes = 64 * 1024;
inline constexpr size_t kMaxDescriptors = 64;              // files read from all directories
inline constexpr size_t kMaxServicesDirs = 16;
inline constexpr size_t kMaxSettings = 32;                 // per descriptor
inline constexpr size_t kMaxFixedArgs = 32;
inline constexpr size_t kMaxFixedEnvironment = 32;
inline constexpr size_t kMaxTokenPrefixes = 16;
inline constexpr size_t kMaxNoRestartExitCodes = 16;
inline constexpr size_t kMaxPatternBytes = 256;
// Memory RE2 may use to compile and run one setting's pattern; a pattern needing more is refused.
inline constexpr int64_t kMaxPatternMemoryBytes = 1 << 20;
inline constexpr size_t kMaxDescriptionBytes = 256;
inline constexpr size_t kMaxArgBytes = 1024;               // a fixed argument or env value
// Below lattice-kernel.service's TimeoutStopSec (30 s), so systemd never has to SIGKILL a
// daemon the kernel was still stopping.
inline constexpr uint32_t kMaxStopTimeoutS = 20;
inline constexpr uint32_t kMaxBackoffMs = 3'600'000;
inline constexpr uint32_t kMaxStartLimitBurst = 1000;
inline constexpr uint32_t kMaxStartLimitIntervalS = 86'400;

// ---- identifiers ----
inline constexpr size_t kMaxServiceIdBytes = 128;
inline constexpr size_t kMaxSettingNameBytes = 64;
inline constexpr size_t kMaxTagBytes = 64;
inline constexpr size_t kMaxTagsPerNode = 32;

// ---- declarations (the mesh's registry and the node's LocalOnly ones) ----
inline constexpr size_t kMaxDeclarationBytes = 16 * 1024;  // one /services/{id}/config value
inline constexpr size_t kMaxDeclarationsPerMesh = 256;     // /services/ keys read per mesh
inline constexpr size_t kMaxStoresPerDeclaration = 64;
inline constexpr size_t kMaxSettingValueBytes = 1024;      // one string setting
inline constexpr size_t kMaxLocalRecords = 1024;           // node-db service records read

// ---- instances ----
inline constexpr size_t kMaxInstances = 128;               // supervised at once on a node
inline constexpr size_t kMaxDiscoveryBytes = 16 * 1024;    // one /nodes/{n}/services/{id}
inline constexpr size_t kMaxDiscoveryRecordsPerNode = 256;
inline constexpr size_t kMaxEndpointsPerInstance = 8;

// ---- daemon output ----
inline constexpr size_t kMaxOutputLineBytes = 4096;        // longer lines are cut
inline constexpr double kOutputLinesPerSecond = 50;        // per instance, beyond: dropped
inline constexpr double kOutputLineBurst = 200;

}  // namespace lattice::services::limits
