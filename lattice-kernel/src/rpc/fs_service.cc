#include "rpc/fs_service.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <set>

#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "rpc/fs_changes.h"
#include "rpc/fs_content.h"
#include "rpc/fs_service_parts.h"
#include "storage/chunk_store.h"

namespace lattice::kernel {
namespace {

constexpr uint32_t kDefaultReadDirEntries = 256;
constexpr uint32_t kDefaultHistory = 100;
constexpr uint32_t kMaxHistory = 1000;
constexpr size_t kMaxConflictsListed = 10000;

AccessRequest FsAccess(const std::string& store, Right right) {
  return AccessRequest{store, right, StoreType::kFs, {KeyScope::Kind::kStore, {}}, {}};
}

// Conflict copies name the node that wrote them as the mesh knows it (its name in the root
// store), made safe to stand in a file name; a node without a name shows its short id.
FsReader::NameOf NameOf(Node& node, const std::string& mesh_id) {
  return [&node, mesh_id](std::string_view author) {
    std::string name = node.MemberName(mesh_id, author);
    for (char& c : name) {
      if (c == '/' || c == '\0') c = '_';
    }
    return name.empty() ? FsAuthorName(author) : name;
  };
}

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

// The path of directory `dir` as stored, for people ("/" for the root).
std::string PathOf(const FsReader& reader, uint64_t dir) {
  std::vector<std::string> parts;
  uint64_t at = dir;
  for (size_t depth = 0; at != kFsRootId && depth < limits::kMaxFsTreeDepth; ++depth) {
    auto place = reader.PlaceOf(at);
    if (!place.ok() || !place->has_value()) return "?/";
    if ((*place)->first == kFsTrashId) return "(deleted)/";
    parts.push_back((*place)->second);
    at = (*place)->first;
  }
  std::string path = "/";
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path += *it + "/";
  return path;
}

// The inode a read names: ENOENT when unknown (an unlinked file stays readable while open).
absl::StatusOr<FsInode> InodeFor(const FsReader& reader, uint64_t ino) {
  if (ino == 0 || ino == kFsTrashId || IsFsOpRef(ino)) return FsError(ENOENT, fmt::format("no inode {}", ino));
  auto inode = reader.Inode(ino);
  if (!inode.ok()) return inode.status();
  if (!inode->has_value()) return FsError(ENOENT, fmt::format("no inode {}", ino));
  return **std::move(inode);
}

// The marker a builder returns when its plan changes nothing: no intention is written.
constexpr char kNothingToChange[] = "lattice:fs:nothing to change";

}  // namespace

std::string FsAuthorName(std::string_view author) { return ToHex(author).substr(0, 8); }

ChunkStore* ChunksOf(Store& store) { return store.chunks(); }

absl::Status NoChunks() {
  return absl::FailedPreconditionError("this store keeps no chunks; it is not an fs store");
}

absl::Status FillStatOf(const FsReader& reader, uint64_t ino, v1::FsStat* out) {
  auto inode = InodeFor(reader, ino);
  if (!inode.ok()) return inode.status();
  FillFsStat(*inode, out);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* FsService::ChangeAfter(Ctx* context, const std::string& store_name,
                                                 v1::Durability durability,
                                                 std::function<absl::Status(Store&)> prepare,
                                                 PlanFn plan_fn, AnswerFn answer) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, FsAccess(store_name, Right::kWrite));
  if (!access.ok()) return Finish(context, access.status());
  Store* store = access->store;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FsReader::NameOf name_of = NameOf(ctx_.node, access->descriptor.mesh_id);
  FsWriterTags* tags = &writer_tags_;
  const uint64_t writer = FsWriterTagOf(*context);
  const std::string* author = &ctx_.node.identity().public_key;
  auto write = [reactor, store, durability, name_of, tags, writer, author,
                plan_fn = std::move(plan_fn), answer = std::move(answer)] {
    auto plan = std::make_shared<FsPlan>();
    auto build = [plan, plan_fn, name_of, tags, writer,
                  author](BatchView& view) -> absl::StatusOr<std::string> {
      FsReader reader(view, name_of);
      FsPlanner planner(reader, FsNow(), *author);
      auto planned = plan_fn(planner);
      if (!planned.ok()) return planned.status();
      if (!view.status().ok()) return view.status();
      *plan = *std::move(planned);
      if (plan->no_change) return absl::AbortedError(kNothingToChange);
      if (static_cast<size_t>(plan->payload.ops_size()) > limits::kMaxFsOpsPerIntention) {
        return absl::ResourceExhaustedError("the change needs more ops than one intention holds");
      }
      std::string payload = plan->payload.SerializeAsString();
      tags->Note(payload, writer);  // before it is applied, so every watch knows it
      return payload;
    };
    auto done = [reactor, plan, store, name_of, answer](absl::StatusOr<WriteReceipt> receipt) {
      FsReader reader(store->db(), name_of);
      if (!receipt.ok()) {
        if (plan->no_change && receipt.status().message() == absl::string_view(kNothingToChange)) {
          reactor->Finish(ToGrpc(answer(*plan, nullptr, reader)));
          return;
        }
        reactor->Finish(ToGrpc(receipt.status()));
        return;
      }
      reactor->Finish(ToGrpc(answer(*plan, &*receipt, reader)));
    };
    store->WriteBuiltAsync(kOpFs, std::move(build), std::move(done), DurabilityOf(durability));
  };
  if (!prepare) {
    write();
    return reactor;
  }
  // Preparing touches the chunk store (reads, writes, checks of chunks): a worker does it,
  // not the receiving thread, then starts the write.
  disk_workers_.Post([reactor, store, prepare = std::move(prepare), write = std::move(write)] {
    if (auto s = prepare(*store); !s.ok()) {
      reactor->Finish(ToGrpc(s));
      return;
    }
    write();
  });
  return reactor;
}

grpc::ServerUnaryReactor* FsService::Change(Ctx* context, const std::string& store,
                                            v1::Durability durability, PlanFn plan,
                                            AnswerFn answer) {
  return ChangeAfter(context, store, durability, nullptr, std::move(plan), std::move(answer));
}

// ---- reads ----------------------------------------------------------------------------

namespace {

// Answers a read on the receiving thread: `read` runs with the open store and a reader of
// its committed state.
template <typename Fn>
grpc::ServerUnaryReactor* ReadCall(ServiceContext& ctx, grpc::CallbackServerContext* context,
                                   const std::string& store, Right right, Fn read) {
  auto access = OpenForCall(*context, ctx.node, ctx.auth, FsAccess(store, right));
  if (!access.ok()) return Finish(context, access.status());
  FsReader reader(access->store->db(), NameOf(ctx.node, access->descriptor.mesh_id));
  return Finish(context, read(*access->store, reader));
}


}  // namespace

grpc::ServerUnaryReactor* FsService::Lookup(Ctx* context, const v1::FsLookupRequest* request,
                                            v1::FsEntryReply* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    if (request->name().size() > limits::kMaxFsNameBytes) return CheckFsCallName(request->name());
    auto parent = InodeFor(reader, request->parent());
    if (!parent.ok()) return parent.status();
    if (!S_ISDIR(parent->attr.mode())) {
      return FsError(ENOTDIR, fmt::format("inode {} is not a directory", request->parent()));
    }
    if (request->name() == "." || request->name() == "..") {
      if (request->name() == "." || request->parent() == kFsRootId) {
        response->set_name(request->name());
        FillFsStat(*parent, response->mutable_stat());
        return absl::OkStatus();
      }
      auto place = reader.PlaceOf(request->parent());
      if (!place.ok()) return place.status();
      if (!place->has_value()) return FsError(ENOENT, "the directory was removed");
      response->set_name(request->name());
      return FillStatOf(reader, (*place)->first, response->mutable_stat());
    }
    auto entry = reader.Lookup(request->parent(), request->name());
    if (!entry.ok()) return entry.status();
    if (!entry->has_value()) {
      return FsError(ENOENT, fmt::format("no such entry in directory {}", request->parent()));
    }
    response->set_name((*entry)->name);
    return FillStatOf(reader, (*entry)->inode, response->mutable_stat());
  });
}

grpc::ServerUnaryReactor* FsService::GetAttr(Ctx* context, const v1::FsGetAttrRequest* request,
                                             v1::FsStat* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) {
                    return FillStatOf(reader, request->ino(), response);
                  });
}

grpc::ServerUnaryReactor* FsService::ReadDir(Ctx* context, const v1::FsReadDirRequest* request,
                                             v1::FsReadDirResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    if (request->max_entries() > limits::kMaxFsReadDirEntries) {
      return absl::ResourceExhaustedError(fmt::format(
          "a ReadDir page holds at most {} entries; this one asks for {}",
          limits::kMaxFsReadDirEntries, request->max_entries()));
    }
    uint32_t max = request->max_entries() == 0 ? kDefaultReadDirEntries : request->max_entries();
    auto dir = InodeFor(reader, request->ino());
    if (!dir.ok()) return dir.status();
    if (!S_ISDIR(dir->attr.mode())) {
      return FsError(ENOTDIR, fmt::format("inode {} is not a directory", request->ino()));
    }
    bool end = false;
    auto entries = reader.List(request->ino(), request->offset(), max, &end, request->plus());
    if (!entries.ok()) return entries.status();
    for (const auto& e : *entries) {
      auto* out = response->add_entries();
      out->set_name(e.name);
      out->set_ino(e.inode);
      out->set_mode(e.mode);
      out->set_offset(e.offset);
      if (e.attrs) FillFsStat(*e.attrs, out->mutable_stat());
    }
    response->set_end(end);
    return FillStatOf(reader, request->ino(), response->mutable_dir());
  });
}

grpc::ServerUnaryReactor* FsService::ReadLink(Ctx* context, const v1::FsReadLinkRequest* request,
                                              v1::FsReadLinkResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    auto inode = InodeFor(reader, request->ino());
    if (!inode.ok()) return inode.status();
    if (!S_ISLNK(inode->attr.mode())) {
      return FsError(EINVAL, fmt::format("inode {} is not a symlink", request->ino()));
    }
    response->set_target(inode->symlink_target);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FsService::MissingChunks(Ctx* context,
                                                   const v1::FsMissingChunksRequest* request,
                                                   v1::FsMissingChunksResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kWrite,
                  [&](Store& store, const FsReader&) -> absl::Status {
    ChunkStore* chunks = ChunksOf(store);
    if (chunks == nullptr) return NoChunks();
    return FsMissingChunks(*chunks, *request, response);
  });
}

// Hashing and writing up to kMaxFsPutChunksBytes is no work for the receiving thread, which
// also reads the connections: the access is checked there, the chunks are stored by a worker
// (disk_workers_), which answers.
grpc::ServerUnaryReactor* FsService::PutChunks(Ctx* context, const v1::FsPutChunksRequest* request,
                                               v1::FsPutChunksResponse* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, FsAccess(request->store(), Right::kWrite));
  if (!access.ok()) return Finish(context, access.status());
  ChunkStore* chunks = ChunksOf(*access->store);
  if (chunks == nullptr) return Finish(context, NoChunks());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  disk_workers_.Post([reactor, chunks, request, response] {
    reactor->Finish(ToGrpc(FsPutChunks(*chunks, *request, response)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* FsService::Read(Ctx* context, const v1::FsReadRequest* request,
                                          v1::FsReadResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store& store, const FsReader& reader) -> absl::Status {
    ChunkStore* chunks = ChunksOf(store);
    if (chunks == nullptr) return NoChunks();
    return FsRead(reader, *chunks, *request, response);
  });
}

grpc::ServerUnaryReactor* FsService::Layout(Ctx* context, const v1::FsLayoutRequest* request,
                                            v1::FsLayoutResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) {
                    return FsLayout(reader, *request, response);
                  });
}

grpc::ServerUnaryReactor* FsService::GetXattr(Ctx* context, const v1::FsXattrRequest* request,
                                              v1::FsXattrResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    if (auto inode = InodeFor(reader, request->ino()); !inode.ok()) return inode.status();
    if (request->name().empty() || request->name().size() > limits::kMaxFsXattrNameBytes) {
      return FsError(ENODATA, "no such extended attribute");
    }
    auto value = reader.Xattr(request->ino(), request->name());
    if (!value.ok()) return value.status();
    if (!value->has_value()) return FsError(ENODATA, "no such extended attribute");
    response->set_value(**value);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FsService::ListXattr(Ctx* context, const v1::FsXattrRequest* request,
                                               v1::FsXattrResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    if (auto inode = InodeFor(reader, request->ino()); !inode.ok()) return inode.status();
    auto names = reader.XattrNames(request->ino());
    if (!names.ok()) return names.status();
    for (auto& name : *names) response->add_names(std::move(name));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FsService::StatFs(Ctx* context, const v1::FsStatFsRequest* request,
                                            v1::FsStatFsResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store& store, const FsReader& reader) -> absl::Status {
    struct statvfs vfs {};
    if (::statvfs(store.db().dir().c_str(), &vfs) != 0) {
      return FsError(EIO, fmt::format("cannot measure the disk holding the store: {}",
                                      std::strerror(errno)));
    }
    auto files = inode_counts_.Get(store.id(), store.last_witness(),
                                   [&reader] { return reader.InodeCount(); });
    if (!files.ok()) return files.status();
    constexpr uint64_t kBlock = 4096;
    uint64_t frsize = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;
    response->set_block_size(kBlock);
    response->set_blocks(static_cast<uint64_t>(vfs.f_blocks) * frsize / kBlock);
    response->set_blocks_free(static_cast<uint64_t>(vfs.f_bfree) * frsize / kBlock);
    response->set_blocks_available(static_cast<uint64_t>(vfs.f_bavail) * frsize / kBlock);
    response->set_files(*files);
    response->set_files_free(std::numeric_limits<uint32_t>::max());
    response->set_name_max(static_cast<uint32_t>(limits::kMaxFsNameBytes));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FsService::Author(Ctx* context, const v1::FsAuthorRequest* request,
                                            v1::FsAuthorResponse* response) {
  // Only a writer mints ids, so only a writer is told the key they are made of.
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, FsAccess(request->store(), Right::kWrite));
  if (!access.ok()) return Finish(context, access.status());
  response->set_author(ctx_.node.identity().public_key);
  return Finish(context, absl::OkStatus());
}

// The barrier: the store's log (chunks are made durable with the commits that cite them).
grpc::ServerUnaryReactor* FsService::Sync(Ctx* context, const v1::FsSyncRequest* request,
                                          v1::FsSyncResponse* response) {
  auto access = OpenForCall(*context, ctx_.node, ctx_.auth, FsAccess(request->store(), Right::kWrite));
  if (!access.ok()) return Finish(context, access.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  access->store->SyncAsync([reactor, response](absl::StatusOr<uint64_t> cursor) {
    if (!cursor.ok()) {
      reactor->Finish(ToGrpc(cursor.status()));
      return;
    }
    response->set_cursor(*cursor);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::FsWatchResponse>* FsService::Watch(Ctx* context,
                                                               const v1::FsWatchRequest* request) {
  return OpenFsWatch(ctx_, context, request, &writer_tags_);
}

grpc::ServerUnaryReactor* FsService::Conflicts(Ctx* context, const v1::FsConflictsRequest* request,
                                               v1::FsConflictsResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    auto conflicts = reader.Conflicts(kMaxConflictsListed);
    if (!conflicts.ok()) return conflicts.status();
    for (const auto& c : *conflicts) {
      auto* out = response->add_conflicts();
      std::string dir = PathOf(reader, c.parent);
      out->set_path(dir + c.name);
      out->set_original(dir + c.original);
      out->set_ino(c.inode);
      out->set_version(c.version);
      out->set_author(c.author);
      *out->mutable_hlc() = c.hlc;
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FsService::History(Ctx* context, const v1::FsHistoryRequest* request,
                                             v1::FsHistoryResponse* response) {
  return ReadCall(ctx_, context, request->store(), Right::kRead,
                  [&](Store&, const FsReader& reader) -> absl::Status {
    if (request->limit() > kMaxHistory) {
      return absl::ResourceExhaustedError(
          fmt::format("History lists at most {} versions; this call asks for {}", kMaxHistory,
                      request->limit()));
    }
    auto inode = InodeFor(reader, request->ino());
    if (!inode.ok()) return inode.status();
    std::set<std::string> heads;
    if (inode->winner) heads.insert(inode->winner->id());
    for (const auto& h : inode->other_heads) heads.insert(h.id());
    auto versions = reader.History(request->ino(), request->limit() == 0 ? kDefaultHistory
                                                                         : request->limit());
    if (!versions.ok()) return versions.status();
    for (const auto& [version, replaces] : *versions) {
      auto* out = response->add_versions();
      out->set_version(version.id());
      *out->mutable_hlc() = version.hlc();
      out->set_author(ToHex(version.author()));
      out->set_size(version.size());
      *out->mutable_mtime() = version.mtime();
      out->set_head(heads.count(version.id()) > 0);
      for (const auto& r : replaces) out->add_replaces(r);
    }
    return absl::OkStatus();
  });
}

}  // namespace lattice::kernel
