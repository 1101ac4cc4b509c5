// Shape checks of an fs.v1 payload that need no state (names, sizes, limits), and the chunks
// a payload cites (for the chunk store, which keeps what applied intentions cite).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/v1/fs.pb.h"

namespace lattice::kernel {

// The most versions one FsWrite replaces, one FsResolve drops, or one FsMove says it saw.
inline constexpr size_t kMaxFsVersionsPerOp = 256;
inline constexpr size_t kFsVersionIdBytes = 36;

// A name of an entry: non-empty, no '/' or NUL, not "." or "..", at most kMaxFsNameBytes.
absl::Status CheckFsName(std::string_view name);

// Parses an fs.v1 payload and checks everything that needs no state. INVALID_ARGUMENT or
// RESOURCE_EXHAUSTED (a limit) with a message naming the op.
absl::StatusOr<v1::FsPayload> ParseFsPayload(std::string_view payload);

// The chunk hashes the extents of the payload's writes cite, each once, in order of first
// citation (holes cite nothing). A write in delta form cites the new extents of its splices
// only: the rest of its version is its base's, which an intention applied before cited.
std::vector<std::string> FsChunksCited(const v1::FsPayload& payload);

// The intentions (32-byte hashes) that wrote the base versions of the payload's writes in
// delta form, each once: the writing intention must cite each as its prev or a dep.
std::vector<std::string> FsBaseIntentions(const v1::FsPayload& payload);

}  // namespace lattice::kernel
