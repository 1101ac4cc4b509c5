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

// The extent list of a write in delta form: `base` (the base version's list) with `splices`
// applied (fs.proto, FsSplice). INVALID_ARGUMENT when a splice falls outside the base or out
// of order, RESOURCE_EXHAUSTED when the result would list more than kMaxFsExtentsPerVersion.
absl::StatusOr<google::protobuf::RepeatedPtrField<v1::FsExtent>> ResolveFsSplices(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& base,
    const google::protobuf::RepeatedPtrField<v1::FsSplice>& splices);

// Splices that turn the extent list `base` into `target`: the extents both share (same hash
// and length) are kept where they appear in the same order, everything else is spliced. The
// common case of content-defined chunks after an edit (one changed stretch) is one splice.
std::vector<v1::FsSplice> FsSplicesBetween(
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& base,
    const google::protobuf::RepeatedPtrField<v1::FsExtent>& target);

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
