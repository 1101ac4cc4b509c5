#include "lattice/client/fs_client.h"

#include "client_impl.h"
#include "lattice/common/fs_writer_tag.h"
#include "lattice/v1/fs_service.grpc.pb.h"

namespace lattice::client {

struct FsClient::Stub {
  std::unique_ptr<v1::Fs::Stub> fs;
};

FsClient::FsClient(Client& client, std::string store)
    : client_(client), store_(std::move(store)), stub_(std::make_unique<Stub>()) {
  stub_->fs = v1::Fs::NewStub(client_.impl_->channel);
}

FsClient::~FsClient() = default;

// A unary call of the Fs service: fills in the store and runs `method` of the stub.
#define LATTICE_FS_UNARY(Response, Method, request)                                   \
  do {                                                                                \
    if ((request).store().empty()) (request).set_store(store_);                       \
    return client_.impl_->Unary<Response>([&](auto* context, auto* response) {        \
      if (writer_tag_ != 0) {                                                         \
        context->AddMetadata(kFsWriterMetadata, FsWriterTagText(writer_tag_));        \
      }                                                                               \
      return stub_->fs->Method(context, (request), response);                         \
    });                                                                               \
  } while (false)

absl::StatusOr<v1::FsEntryReply> FsClient::Lookup(uint64_t parent, const std::string& name) {
  v1::FsLookupRequest request;
  request.set_parent(parent);
  request.set_name(name);
  LATTICE_FS_UNARY(v1::FsEntryReply, Lookup, request);
}

absl::StatusOr<v1::FsStat> FsClient::GetAttr(uint64_t ino) {
  v1::FsGetAttrRequest request;
  request.set_ino(ino);
  LATTICE_FS_UNARY(v1::FsStat, GetAttr, request);
}

absl::StatusOr<v1::FsStat> FsClient::SetAttr(v1::FsSetAttrRequest request) {
  LATTICE_FS_UNARY(v1::FsStat, SetAttr, request);
}

absl::StatusOr<v1::FsReadDirResponse> FsClient::ReadDir(v1::FsReadDirRequest request) {
  LATTICE_FS_UNARY(v1::FsReadDirResponse, ReadDir, request);
}

absl::StatusOr<v1::FsEntryReply> FsClient::Create(v1::FsCreateRequest request) {
  LATTICE_FS_UNARY(v1::FsEntryReply, Create, request);
}

absl::StatusOr<v1::FsReadLinkResponse> FsClient::ReadLink(uint64_t ino) {
  v1::FsReadLinkRequest request;
  request.set_ino(ino);
  LATTICE_FS_UNARY(v1::FsReadLinkResponse, ReadLink, request);
}

absl::StatusOr<v1::FsEntryReply> FsClient::Link(uint64_t ino, uint64_t new_parent,
                                                const std::string& new_name) {
  v1::FsLinkRequest request;
  request.set_ino(ino);
  request.set_new_parent(new_parent);
  request.set_new_name(new_name);
  LATTICE_FS_UNARY(v1::FsEntryReply, Link, request);
}

absl::StatusOr<v1::FsChangeReply> FsClient::Remove(uint64_t parent, const std::string& name,
                                                   bool dir) {
  v1::FsRemoveRequest request;
  request.set_parent(parent);
  request.set_name(name);
  request.set_dir(dir);
  LATTICE_FS_UNARY(v1::FsChangeReply, Remove, request);
}

absl::StatusOr<v1::FsRemoveManyResponse> FsClient::RemoveMany(v1::FsRemoveManyRequest request) {
  LATTICE_FS_UNARY(v1::FsRemoveManyResponse, RemoveMany, request);
}

absl::StatusOr<v1::FsChangeReply> FsClient::Rename(v1::FsRenameRequest request) {
  LATTICE_FS_UNARY(v1::FsChangeReply, Rename, request);
}

absl::StatusOr<v1::FsMissingChunksResponse> FsClient::MissingChunks(
    v1::FsMissingChunksRequest request) {
  LATTICE_FS_UNARY(v1::FsMissingChunksResponse, MissingChunks, request);
}

absl::StatusOr<v1::FsPutChunksResponse> FsClient::PutChunks(v1::FsPutChunksRequest request) {
  LATTICE_FS_UNARY(v1::FsPutChunksResponse, PutChunks, request);
}

absl::StatusOr<v1::FsStat> FsClient::Commit(v1::FsCommitRequest request) {
  LATTICE_FS_UNARY(v1::FsStat, Commit, request);
}

absl::StatusOr<v1::FsCommitManyResponse> FsClient::CommitMany(v1::FsCommitManyRequest request) {
  LATTICE_FS_UNARY(v1::FsCommitManyResponse, CommitMany, request);
}

absl::StatusOr<v1::FsReadResponse> FsClient::Read(v1::FsReadRequest request) {
  LATTICE_FS_UNARY(v1::FsReadResponse, Read, request);
}

absl::StatusOr<v1::FsLayoutResponse> FsClient::Layout(v1::FsLayoutRequest request) {
  LATTICE_FS_UNARY(v1::FsLayoutResponse, Layout, request);
}

absl::StatusOr<v1::FsXattrResponse> FsClient::GetXattr(uint64_t ino, const std::string& name) {
  v1::FsXattrRequest request;
  request.set_ino(ino);
  request.set_name(name);
  LATTICE_FS_UNARY(v1::FsXattrResponse, GetXattr, request);
}

absl::StatusOr<v1::FsChangeReply> FsClient::SetXattr(v1::FsXattrRequest request) {
  LATTICE_FS_UNARY(v1::FsChangeReply, SetXattr, request);
}

absl::StatusOr<v1::FsXattrResponse> FsClient::ListXattr(uint64_t ino) {
  v1::FsXattrRequest request;
  request.set_ino(ino);
  LATTICE_FS_UNARY(v1::FsXattrResponse, ListXattr, request);
}

absl::StatusOr<v1::FsChangeReply> FsClient::RemoveXattr(uint64_t ino, const std::string& name) {
  v1::FsXattrRequest request;
  request.set_ino(ino);
  request.set_name(name);
  LATTICE_FS_UNARY(v1::FsChangeReply, RemoveXattr, request);
}

absl::StatusOr<std::string> FsClient::Author() {
  v1::FsAuthorRequest request;
  auto answer = [&]() -> absl::StatusOr<v1::FsAuthorResponse> {
    LATTICE_FS_UNARY(v1::FsAuthorResponse, Author, request);
  }();
  if (!answer.ok()) return answer.status();
  return std::move(*answer->mutable_author());
}

absl::StatusOr<v1::FsStatFsResponse> FsClient::StatFs() {
  v1::FsStatFsRequest request;
  LATTICE_FS_UNARY(v1::FsStatFsResponse, StatFs, request);
}

absl::StatusOr<v1::FsSyncResponse> FsClient::Sync() {
  v1::FsSyncRequest request;
  LATTICE_FS_UNARY(v1::FsSyncResponse, Sync, request);
}

absl::StatusOr<v1::FsConflictsResponse> FsClient::Conflicts() {
  v1::FsConflictsRequest request;
  LATTICE_FS_UNARY(v1::FsConflictsResponse, Conflicts, request);
}

absl::StatusOr<v1::FsHistoryResponse> FsClient::History(uint64_t ino, uint32_t limit) {
  v1::FsHistoryRequest request;
  request.set_ino(ino);
  request.set_limit(limit);
  LATTICE_FS_UNARY(v1::FsHistoryResponse, History, request);
}

absl::StatusOr<v1::FsStat> FsClient::Restore(v1::FsRestoreRequest request) {
  LATTICE_FS_UNARY(v1::FsStat, Restore, request);
}

#undef LATTICE_FS_UNARY

absl::Status FsClient::Watch(v1::FsWatchRequest request, const FsWatchCallback& on_response,
                             WatchCanceller* canceller) {
  if (request.store().empty()) request.set_store(store_);
  return client_.impl_->Stream<v1::FsWatchResponse>(
      [&](grpc::ClientContext* context) { return stub_->fs->Watch(context, request); },
      on_response, canceller);
}

}  // namespace lattice::client
