// The Fs service of the Store Protocol (fs_service.proto). Every call is a callback method:
// a read is answered on the thread that received it, a change is planned by the store's
// writer against the state the earlier writes left (FsPlanner over a BatchView, via
// Store::WriteBuiltAsync) and answered once durable, and Watch is a pumped stream.
#pragma once

#include <functional>

#include "lattice/v1/fs_service.grpc.pb.h"
#include "rpc/fs_inode_counts.h"
#include "rpc/fs_planner.h"
#include "rpc/fs_writer_tags.h"
#include "rpc/services.h"
#include "store/worker_pool.h"

namespace lattice::kernel {

class FsService final : public v1::Fs::CallbackService {
 public:
  // Threads for the chunk store's disk work of calls: the disk, not the CPU, bounds them.
  static constexpr size_t kDiskWorkers = 2;

  explicit FsService(ServiceContext& ctx) : ctx_(ctx) {}

  using Unary = grpc::ServerUnaryReactor;
  using Ctx = grpc::CallbackServerContext;
  Unary* Lookup(Ctx*, const v1::FsLookupRequest*, v1::FsEntryReply*) override;
  Unary* GetAttr(Ctx*, const v1::FsGetAttrRequest*, v1::FsStat*) override;
  Unary* SetAttr(Ctx*, const v1::FsSetAttrRequest*, v1::FsStat*) override;
  Unary* ReadDir(Ctx*, const v1::FsReadDirRequest*, v1::FsReadDirResponse*) override;
  Unary* Create(Ctx*, const v1::FsCreateRequest*, v1::FsEntryReply*) override;
  Unary* ReadLink(Ctx*, const v1::FsReadLinkRequest*, v1::FsReadLinkResponse*) override;
  Unary* Link(Ctx*, const v1::FsLinkRequest*, v1::FsEntryReply*) override;
  Unary* Remove(Ctx*, const v1::FsRemoveRequest*, v1::FsChangeReply*) override;
  Unary* RemoveMany(Ctx*, const v1::FsRemoveManyRequest*, v1::FsRemoveManyResponse*) override;
  Unary* Rename(Ctx*, const v1::FsRenameRequest*, v1::FsChangeReply*) override;
  Unary* MissingChunks(Ctx*, const v1::FsMissingChunksRequest*, v1::FsMissingChunksResponse*) override;
  Unary* PutChunks(Ctx*, const v1::FsPutChunksRequest*, v1::FsPutChunksResponse*) override;
  Unary* Commit(Ctx*, const v1::FsCommitRequest*, v1::FsStat*) override;
  Unary* CommitMany(Ctx*, const v1::FsCommitManyRequest*, v1::FsCommitManyResponse*) override;
  Unary* Read(Ctx*, const v1::FsReadRequest*, v1::FsReadResponse*) override;
  Unary* Layout(Ctx*, const v1::FsLayoutRequest*, v1::FsLayoutResponse*) override;
  Unary* GetXattr(Ctx*, const v1::FsXattrRequest*, v1::FsXattrResponse*) override;
  Unary* SetXattr(Ctx*, const v1::FsXattrRequest*, v1::FsChangeReply*) override;
  Unary* ListXattr(Ctx*, const v1::FsXattrRequest*, v1::FsXattrResponse*) override;
  Unary* RemoveXattr(Ctx*, const v1::FsXattrRequest*, v1::FsChangeReply*) override;
  Unary* StatFs(Ctx*, const v1::FsStatFsRequest*, v1::FsStatFsResponse*) override;
  Unary* Author(Ctx*, const v1::FsAuthorRequest*, v1::FsAuthorResponse*) override;
  Unary* Sync(Ctx*, const v1::FsSyncRequest*, v1::FsSyncResponse*) override;
  grpc::ServerWriteReactor<v1::FsWatchResponse>* Watch(Ctx*, const v1::FsWatchRequest*) override;
  Unary* Conflicts(Ctx*, const v1::FsConflictsRequest*, v1::FsConflictsResponse*) override;
  Unary* History(Ctx*, const v1::FsHistoryRequest*, v1::FsHistoryResponse*) override;
  Unary* Restore(Ctx*, const v1::FsRestoreRequest*, v1::FsStat*) override;

 private:
  // Plans a change with `plan` on the store's writer and writes it; `answer` fills the reply
  // once it is durable (`receipt` null when nothing had to change), reading the committed
  // state.
  using PlanFn = std::function<absl::StatusOr<FsPlan>(FsPlanner&)>;
  using AnswerFn = std::function<absl::Status(const FsPlan& plan, const WriteReceipt* receipt,
                                              const FsReader& reader)>;
  // `durability` is the request's: acknowledged once synced (the default) or once applied.
  Unary* Change(Ctx* context, const std::string& store, v1::Durability durability, PlanFn plan,
                AnswerFn answer);
  // Starts a change once `prepare` (run with the open store by a worker of disk_workers_,
  // since it touches the chunk store) is done.
  Unary* ChangeAfter(Ctx* context, const std::string& store, v1::Durability durability,
                     std::function<absl::Status(Store&)> prepare, PlanFn plan, AnswerFn answer);

  ServiceContext& ctx_;
  // Which tagged call wrote which change, for the watches that skip their caller's.
  FsWriterTags writer_tags_;
  FsInodeCounts inode_counts_;  // StatFs's file counts
  // The chunk store's disk work of calls (PutChunks, and the `prepare` of ChangeAfter: a
  // commit's check of its chunks, a truncate's cut chunk), off the gRPC threads. Destroyed
  // after the server, whose shutdown waits for the calls the workers still answer.
  WorkerPool disk_workers_{kDiskWorkers};
};

// How the fs state names an author in a conflict copy's name: its short id.
std::string FsAuthorName(std::string_view author);

}  // namespace lattice::kernel
