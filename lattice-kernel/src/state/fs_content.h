// The content of regular files: versions and heads. A write makes a version that replaces
// the versions it names; the heads are the versions no applied version (or FsResolve)
// replaced. A replacement that arrives before the version it replaces leaves a marker so that
// version never becomes a head, and the marker goes once it arrives: the heads, like every
// record here, depend only on the set of applied intentions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/fs_state.pb.h"
#include "state/fs_keys.h"
#include "storage/batch_view.h"

namespace lattice::kernel::fs {

// Records `version` of `ino` (its id is set) and makes it a head unless already replaced;
// drops the heads it replaces.
void ApplyFsWrite(BatchView& view, uint64_t ino, const v1::FsVersionRecord& version);

// Drops `versions` from the heads of `ino`.
void ApplyFsResolve(BatchView& view, uint64_t ino,
                    const google::protobuf::RepeatedPtrField<std::string>& versions);

// True when `a` wins over `b`: higher hlc, then author, then version id.
bool FsVersionWins(const v1::FsVersion& a, const v1::FsVersion& b);

// The heads of `ino`, winner first.
absl::StatusOr<std::vector<v1::FsVersion>> ReadFsHeads(const FsSource& source, uint64_t ino);

// Every version of `ino` kept, newest (by the same order) first.
absl::StatusOr<std::vector<v1::FsVersionRecord>> ReadFsVersions(const FsSource& source,
                                                                uint64_t ino);

}  // namespace lattice::kernel::fs
