// FsClient: the Fs service of the Store Protocol (fs_service.proto) over a Client's channel,
// credentials and deadlines. One method per RPC; a failure keeps the kernel's code and message,
// so lattice::FsErrnoOf(status) (lattice/common/fs_errno.h) gives the errno to answer.
//
// Every request's `store` may be left empty: the FsClient's store is used then.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/client.h"
#include "lattice/client/watch_canceller.h"
#include "lattice/v1/fs_service.pb.h"

namespace lattice::client {

using FsWatchCallback = std::function<bool(const v1::FsWatchResponse&)>;

// Thread-safe as Client is. Borrows `client`, which must outlive it.
class FsClient {
 public:
  FsClient(Client& client, std::string store);
  ~FsClient();
  FsClient(const FsClient&) = delete;
  FsClient& operator=(const FsClient&) = delete;

  const std::string& store() const { return store_; }
  // Tags every call from now on (lattice/common/fs_writer_tag.h; 0: none), so that a watch
  // asking to skip `tag` leaves out the changes of this client's calls.
  void set_writer_tag(uint64_t tag) { writer_tag_ = tag; }

  absl::StatusOr<v1::FsEntryReply> Lookup(uint64_t parent, const std::string& name);
  absl::StatusOr<v1::FsStat> GetAttr(uint64_t ino);
  absl::StatusOr<v1::FsStat> SetAttr(v1::FsSetAttrRequest request);
  absl::StatusOr<v1::FsReadDirResponse> ReadDir(v1::FsReadDirRequest request);
  absl::StatusOr<v1::FsEntryReply> Create(v1::FsCreateRequest request);
  // The key this node signs the store's writes with: a create with a nonce makes the inode
  // FsMintedId(author, nonce) (lattice/common/fs_ids.h).
  absl::StatusOr<std::string> Author();
  absl::StatusOr<v1::FsReadLinkResponse> ReadLink(uint64_t ino);
  absl::StatusOr<v1::FsEntryReply> Link(uint64_t ino, uint64_t new_parent, const std::string& new_name);
  // unlink (dir = false) and rmdir (dir = true).
  absl::StatusOr<v1::FsChangeReply> Remove(uint64_t parent, const std::string& name, bool dir);
  absl::StatusOr<v1::FsRemoveManyResponse> RemoveMany(v1::FsRemoveManyRequest request);
  absl::StatusOr<v1::FsChangeReply> Rename(v1::FsRenameRequest request);
  absl::StatusOr<v1::FsMissingChunksResponse> MissingChunks(v1::FsMissingChunksRequest request);
  absl::StatusOr<v1::FsPutChunksResponse> PutChunks(v1::FsPutChunksRequest request);
  absl::StatusOr<v1::FsStat> Commit(v1::FsCommitRequest request);
  absl::StatusOr<v1::FsCommitManyResponse> CommitMany(v1::FsCommitManyRequest request);
  absl::StatusOr<v1::FsReadResponse> Read(v1::FsReadRequest request);
  absl::StatusOr<v1::FsLayoutResponse> Layout(v1::FsLayoutRequest request);
  absl::StatusOr<v1::FsXattrResponse> GetXattr(uint64_t ino, const std::string& name);
  absl::StatusOr<v1::FsChangeReply> SetXattr(v1::FsXattrRequest request);
  absl::StatusOr<v1::FsXattrResponse> ListXattr(uint64_t ino);
  absl::StatusOr<v1::FsChangeReply> RemoveXattr(uint64_t ino, const std::string& name);
  absl::StatusOr<v1::FsStatFsResponse> StatFs();
  absl::StatusOr<v1::FsSyncResponse> Sync();
  absl::StatusOr<v1::FsConflictsResponse> Conflicts();
  absl::StatusOr<v1::FsHistoryResponse> History(uint64_t ino, uint32_t limit = 0);
  absl::StatusOr<v1::FsStat> Restore(v1::FsRestoreRequest request);

  // Runs one Fs.Watch stream until `on_response` returns false or `canceller` fires (both
  // OK) or the stream breaks (its status). See ResumingFsWatch (resuming_watch.h) for a
  // watch that survives kernel restarts.
  absl::Status Watch(v1::FsWatchRequest request, const FsWatchCallback& on_response,
                     WatchCanceller* canceller = nullptr);

 private:
  struct Stub;
  Client& client_;
  std::string store_;
  uint64_t writer_tag_ = 0;
  std::unique_ptr<Stub> stub_;
};

}  // namespace lattice::client
