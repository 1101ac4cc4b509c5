// FsService: the calls that change the tree (fs_service.h), each planned by FsPlanner on the
// store's writer through Change or ChangeAfter (fs_service.cc) and answered once written.
#include "rpc/fs_service.h"

#include <fmt/format.h>

#include <cerrno>
#include <memory>

#include "lattice/common/fs_errno.h"
#include "lattice/common/hex.h"
#include "rpc/fs_commit_many.h"
#include "rpc/fs_content.h"
#include "rpc/fs_remove_many.h"
#include "rpc/fs_service_parts.h"
#include "storage/chunk_store.h"

namespace lattice::kernel {
namespace {

// The answer of a call that replies with its write: empty when nothing was written.
auto AnswerWithChange(v1::FsChangeReply* out) {
  return [out](const FsPlan& plan, const WriteReceipt* receipt, const FsReader&) {
    if (receipt != nullptr) {
      FillReceipt(*receipt, out->mutable_write());
      if (plan.stamped) *out->mutable_stamped() = *plan.stamped;
      out->set_moved_directory(plan.moved_directory);
      for (uint64_t ino : plan.touched) out->add_touched(ino);
    }
    return absl::OkStatus();
  };
}

}  // namespace

grpc::ServerUnaryReactor* FsService::Create(Ctx* context, const v1::FsCreateRequest* request,
                                            v1::FsEntryReply* response) {
  return Change(
      context, request->store(), request->durability(), [request](FsPlanner& p) { return p.Create(*request); },
      [request, response](const FsPlan& plan, const WriteReceipt* receipt,
                          const FsReader& reader) -> absl::Status {
        response->set_name(request->name());
        // A minted id is known from the plan (and answers a create sent again, which writes
        // nothing); any other from the intention's hash.
        if (plan.inode != 0) return FillStatOf(reader, plan.inode, response->mutable_stat());
        if (receipt == nullptr || plan.created_op < 0) return absl::InternalError("nothing was created");
        return FillStatOf(reader, FsDerivedId(receipt->hash, static_cast<uint32_t>(plan.created_op)),
                          response->mutable_stat());
      });
}

grpc::ServerUnaryReactor* FsService::Link(Ctx* context, const v1::FsLinkRequest* request,
                                          v1::FsEntryReply* response) {
  return Change(
      context, request->store(), request->durability(), [request](FsPlanner& p) { return p.Link(*request); },
      [request, response](const FsPlan& plan, const WriteReceipt*, const FsReader& reader) {
        response->set_name(request->new_name());
        return FillStatOf(reader, plan.inode, response->mutable_stat());
      });
}

grpc::ServerUnaryReactor* FsService::Remove(Ctx* context, const v1::FsRemoveRequest* request,
                                            v1::FsChangeReply* response) {
  return Change(
      context, request->store(), request->durability(), [request](FsPlanner& p) { return p.Remove(*request); },
      AnswerWithChange(response));
}

grpc::ServerUnaryReactor* FsService::RemoveMany(Ctx* context,
                                                const v1::FsRemoveManyRequest* request,
                                                v1::FsRemoveManyResponse* response) {
  // Each removal's outcome; planned again whenever the writer plans again. The request is
  // checked once the caller's access is (by Change), as every call's fields are.
  auto outcomes = std::make_shared<std::vector<absl::Status>>();
  auto plan = [request, outcomes](FsPlanner& p) -> absl::StatusOr<FsPlan> {
    if (auto s = CheckFsRemoveMany(*request); !s.ok()) return s;
    return PlanFsRemoveMany(p, *request, *outcomes);
  };
  auto answer = [response, outcomes](const FsPlan& plan, const WriteReceipt* receipt,
                                     const FsReader&) -> absl::Status {
    if (receipt != nullptr) {
      FillReceipt(*receipt, response->mutable_write());
      if (plan.stamped) *response->mutable_stamped() = *plan.stamped;
    }
    for (const absl::Status& status : *outcomes) {
      v1::FsRemoveResult* result = response->add_results();
      result->set_code(static_cast<int32_t>(status.code()));
      result->set_message(std::string(status.message()));
    }
    return absl::OkStatus();
  };
  return Change(context, request->store(), request->durability(), std::move(plan),
                std::move(answer));
}

grpc::ServerUnaryReactor* FsService::Rename(Ctx* context, const v1::FsRenameRequest* request,
                                            v1::FsChangeReply* response) {
  return Change(
      context, request->store(), request->durability(), [request](FsPlanner& p) { return p.Rename(*request); },
      AnswerWithChange(response));
}

grpc::ServerUnaryReactor* FsService::SetAttr(Ctx* context, const v1::FsSetAttrRequest* request,
                                             v1::FsStat* response) {
  // A truncate inside a chunk needs that chunk's prefix stored as a chunk first.
  auto cut = std::make_shared<FsCutChunks>();
  std::function<absl::Status(Store&)> prepare;
  if (request->has_size()) {
    prepare = [request, cut](Store& store) -> absl::Status {
      ChunkStore* chunks = ChunksOf(store);
      if (chunks == nullptr) return NoChunks();
      FsReader reader(store.db(), {});
      return FsPrepareCut(reader, *chunks, request->ino(), request->size(), cut.get());
    };
  }
  return ChangeAfter(
      context, request->store(), request->durability(), std::move(prepare),
      [request, cut](FsPlanner& p) { return p.SetAttr(*request, *cut); },
      [response](const FsPlan& plan, const WriteReceipt*, const FsReader& reader) {
        return FillStatOf(reader, plan.inode, response);
      });
}

grpc::ServerUnaryReactor* FsService::Commit(Ctx* context, const v1::FsCommitRequest* request,
                                            v1::FsStat* response) {
  auto prepare = [request](Store& store) -> absl::Status {
    if (auto s = CheckFsExtents(request->extents(), request->size()); !s.ok()) return s;
    ChunkStore* chunks = ChunksOf(store);
    if (chunks == nullptr) return NoChunks();
    if (request->chunks_size() > 0) {
      if (auto stored = FsStoreChunks(*chunks, request->chunks()); !stored.ok()) {
        return stored.status();
      }
    }
    return FsCheckChunksPresent(*chunks, request->extents());
  };
  return ChangeAfter(
      context, request->store(), request->durability(), prepare, [request](FsPlanner& p) { return p.Commit(*request); },
      [response](const FsPlan& plan, const WriteReceipt*, const FsReader& reader) {
        return FillStatOf(reader, plan.inode, response);
      });
}

grpc::ServerUnaryReactor* FsService::CommitMany(Ctx* context,
                                                const v1::FsCommitManyRequest* request,
                                                v1::FsCommitManyResponse* response) {
  // What preparing left of each commit; the plan starts from it every time it runs (the
  // writer may plan again), and ends with each commit's outcome.
  struct Outcomes {
    std::vector<absl::Status> prepared;
    std::vector<absl::Status> planned;
    std::vector<absl::StatusOr<uint64_t>> created;
  };
  auto outcomes = std::make_shared<Outcomes>();
  auto prepare = [request, outcomes](Store& store) -> absl::Status {
    if (auto s = CheckFsCommitMany(*request); !s.ok()) return s;
    ChunkStore* chunks = ChunksOf(store);
    if (chunks == nullptr) return NoChunks();
    outcomes->prepared = FsPrepareCommits(*chunks, *request);
    return absl::OkStatus();
  };
  auto plan = [request, outcomes](FsPlanner& p) -> absl::StatusOr<FsPlan> {
    outcomes->planned = outcomes->prepared;
    return PlanFsCommitMany(p, *request, outcomes->planned, outcomes->created);
  };
  auto answer = [request, response, outcomes](const FsPlan&, const WriteReceipt* receipt,
                                               const FsReader& reader) -> absl::Status {
    if (receipt != nullptr) FillReceipt(*receipt, response->mutable_write());
    auto fill = [&reader](v1::FsCommitResult* result, absl::Status status, uint64_t ino) {
      if (status.ok()) status = FillStatOf(reader, ino, result->mutable_stat());
      if (!status.ok()) {
        result->clear_stat();
        result->set_code(static_cast<int32_t>(status.code()));
        result->set_message(std::string(status.message()));
      }
    };
    for (const auto& created : outcomes->created) {
      fill(response->add_created(), created.status(), created.ok() ? *created : 0);
    }
    for (int i = 0; i < request->commits_size(); ++i) {
      fill(response->add_results(), outcomes->planned[static_cast<size_t>(i)],
           request->commits(i).ino());
    }
    return absl::OkStatus();
  };
  return ChangeAfter(context, request->store(), request->durability(), std::move(prepare),
                     std::move(plan), std::move(answer));
}

grpc::ServerUnaryReactor* FsService::Restore(Ctx* context, const v1::FsRestoreRequest* request,
                                             v1::FsStat* response) {
  // A version replaced long ago may have had its chunks collected (store/chunk_gc.h): say so
  // rather than write a version no node can read.
  auto prepare = [request](Store& store) -> absl::Status {
    ChunkStore* chunks = ChunksOf(store);
    if (chunks == nullptr) return NoChunks();
    FsReader reader(store.db(), [](std::string_view) { return std::string(); });
    auto version = reader.Version(request->ino(), request->version());
    if (!version.ok()) return version.status();
    if (!version->has_value()) return absl::OkStatus();  // the planner answers ENOENT
    std::vector<std::string> hashes;
    for (const auto& extent : (*version)->extents()) {
      if (!extent.hash().empty()) hashes.push_back(extent.hash());
    }
    auto missing = chunks->Missing(hashes);
    if (!missing.ok()) return missing.status();
    if (missing->empty()) return absl::OkStatus();
    return FsError(ENODATA, fmt::format(
        "version {} of inode {} cannot be restored: {} of its chunks are not on this node (its "
        "content was collected some time after it was replaced, or is not fetched yet)",
        ToHex(request->version()), request->ino(), missing->size()));
  };
  return ChangeAfter(
      context, request->store(), request->durability(), prepare, [request](FsPlanner& p) { return p.Restore(*request); },
      [response](const FsPlan& plan, const WriteReceipt*, const FsReader& reader) {
        return FillStatOf(reader, plan.inode, response);
      });
}

grpc::ServerUnaryReactor* FsService::SetXattr(Ctx* context, const v1::FsXattrRequest* request,
                                              v1::FsChangeReply* response) {
  return Change(
      context, request->store(), request->durability(), [request](FsPlanner& p) { return p.SetXattr(*request); },
      AnswerWithChange(response));
}

grpc::ServerUnaryReactor* FsService::RemoveXattr(Ctx* context, const v1::FsXattrRequest* request,
                                                 v1::FsChangeReply* response) {
  return Change(
      context, request->store(), request->durability(), [request](FsPlanner& p) { return p.RemoveXattr(*request); },
      AnswerWithChange(response));
}

}  // namespace lattice::kernel
