// Fs.Watch: each fs.v1 intention of the store's witness log as an FsChange (the inodes whose
// attributes or content changed and the names placed in directories), for lattice-fuse to
// invalidate its caches, with the resumable cursors of every watch (watch_stream.h).
#pragma once

#include "dag/intention.h"
#include "lattice/v1/fs_service.pb.h"
#include "rpc/fs_writer_tags.h"
#include "rpc/services.h"

namespace lattice::kernel {
namespace fs {
class FsSource;
}  // namespace fs

// `tags` (outliving the watch) says which calls wrote what, for `skip_writer`.
grpc::ServerWriteReactor<v1::FsWatchResponse>* OpenFsWatch(ServiceContext& ctx,
                                                           grpc::CallbackServerContext* context,
                                                           const v1::FsWatchRequest* request,
                                                           const FsWriterTags* tags);

// The change one fs.v1 intention makes, as a watch shows it (op references resolved against
// the intention's hash). False when the intention is not an fs.v1 one. With `state` (the
// store's fs state), a move also names the place its entry left, read from the move log:
// the old directory among `inodes` and its old name among `names` (a rename or unlink seen
// elsewhere must drop the old name from a mount's cache too). Without it, or when the move
// log does not say, only the new place. With `state`, a write or a resolve also names the
// places its inode is shown (their directories and names): the conflict copies shown next to
// them may have come or gone, and a name unlinked concurrently with the write is back.
bool FsChangeOf(const DecodedIntention& intention, std::string_view own_author, v1::FsChange* out,
                const fs::FsSource* state = nullptr);

// Whether a change must reach even the client whose call made it (a watch's `skip_writer`):
// a write that left its inode with conflict copies (a version written elsewhere arrived
// first) or showed again a name of it in the trash (an unlink made elsewhere, concurrent
// with this write), or a resolve; each changes listings beyond the names the client's own calls placed, which
// a mount keeping its listings must hear. An error reading the state says yes.
bool FsChangeShowsMoreThanItsCalls(const DecodedIntention& intention, const fs::FsSource& state);

}  // namespace lattice::kernel
