#include "rpc/fs_changes.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lattice/common/fs_limits.h"
#include "lattice/common/hex.h"
#include "lattice/v1/fs.pb.h"
#include "lattice/v1/fs_state.pb.h"
#include "rpc/watch_stream.h"
#include "state/fs_keys.h"
#include "state/fs_reader.h"
#include "state/fs_tree.h"
#include "state/fs_view.h"

namespace lattice::kernel {
namespace {

class FsWatchStream final : public WatchStream<v1::FsWatchResponse> {
 public:
  FsWatchStream(ServiceContext& ctx, grpc::CallbackServerContext* context,
                const v1::FsWatchRequest* request, const FsWriterTags* tags)
      : WatchStream(ctx, context, request->from_now(), request->from_cursor()),
        ctx_(ctx),
        request_(*request),
        tags_(tags) {
    set_cursor_at_once(request->cursor_at_once());
  }

 protected:
  AccessRequest Access() const override {
    return AccessRequest{request_.store(), Right::kWatch, StoreType::kFs,
                         {KeyScope::Kind::kStore, {}}, {}};
  }

  size_t Collect(v1::FsWatchResponse& out, uint64_t witness, const DecodedIntention& intention,
                 bool noop) override {
    if (noop) return 0;
    const std::string& own = ctx_.node.identity().public_key;
    fs::DatabaseSource state(this->store().db());
    if (intention.body.author() == own) {
      if (request_.remote_only()) return 0;
      if (request_.skip_writer() != 0 && tags_ != nullptr &&
          tags_->Find(intention.body.payload()) == request_.skip_writer() &&
          !FsChangeShowsMoreThanItsCalls(intention, state)) {
        return 0;
      }
    }
    v1::FsChange change;
    if (!FsChangeOf(intention, own, &change, &state)) return 0;
    change.set_cursor(witness);
    auto* added = out.add_changes();
    *added = std::move(change);
    return added->ByteSizeLong();
  }

  int EventCount(const v1::FsWatchResponse& out) const override { return out.changes_size(); }

  void Opening(v1::FsWatchResponse& out) override {
    out.set_witness_file(this->store().published_witness_path());
  }

 private:
  ServiceContext& ctx_;
  const v1::FsWatchRequest& request_;
  const FsWriterTags* tags_;
};

// The places where `ino` is shown now. A write or a resolve changes more than the inode: it
// adds or drops conflict copies next to each of its names, and a write concurrent with an
// unlink shows the unlinked name again; so a mount must list those directories afresh.
void AddShownPlaces(const fs::FsSource& state, uint64_t ino, std::set<uint64_t>* inodes,
                    std::set<std::pair<uint64_t, std::string>>* names) {
  // An inode's names are few (its hard links); a bound keeps one change's cost bounded too.
  constexpr size_t kMaxPlaces = 64;
  std::vector<uint64_t> entries;
  std::string prefix = fs::Key(fs::kInodeEntriesTable, ino);
  auto scanned = state.ScanPrefix(prefix, [&](std::string_view key, std::string_view) {
    entries.push_back(fs::ReadBe64(key.substr(prefix.size())));
    return entries.size() < kMaxPlaces;
  });
  if (!scanned.ok()) return;
  for (uint64_t entry : entries) {
    auto record = fs::ReadEntry(state, entry);
    if (!record.ok() || !*record) continue;
    auto place = fs::ShownPlace(**record);
    if (!place || place->parent() == 0 || place->parent() == kFsTrashId) continue;
    inodes->insert(place->parent());
    names->insert({place->parent(), place->name()});
  }
}

// A name made in a directory that another node removed shows that directory again, and any
// removed directory above it (fs_view.h: a removed directory with shown contents is shown):
// their own names are new too, and a mount may hold them as absent since the removal.
// `walked` holds the directories already looked at, so each is read once per change.
void AddRevivedDirectories(const fs::FsSource& state, uint64_t dir, std::set<uint64_t>* walked,
                           std::set<uint64_t>* inodes,
                           std::set<std::pair<uint64_t, std::string>>* names) {
  for (size_t depth = 0; dir != kFsRootId && depth < limits::kMaxFsTreeDepth; ++depth) {
    if (!walked->insert(dir).second) return;
    auto record = fs::ReadEntry(state, dir);
    if (!record.ok() || !*record || (*record)->place().parent() != kFsTrashId) return;
    auto place = fs::ShownPlace(**record);
    if (!place || place->parent() == 0) return;
    inodes->insert(place->parent());
    names->insert({place->parent(), place->name()});
    dir = place->parent();
  }
}

}  // namespace

bool FsChangeOf(const DecodedIntention& intention, std::string_view own_author, v1::FsChange* out,
                const fs::FsSource* state) {
  if (intention.body.op_type() != kOpFs) return false;
  v1::FsPayload payload;
  if (!payload.ParseFromString(intention.body.payload())) return false;
  auto created = [&](uint32_t index) {
    return index < static_cast<uint32_t>(payload.ops_size())
               ? FsCreatedId(payload.ops(static_cast<int>(index)), intention.body.author(),
                             intention.hash, index)
               : FsDerivedId(intention.hash, index);
  };
  auto resolve = [&](uint64_t id) {
    return IsFsOpRef(id) ? created(static_cast<uint32_t>(id & ~kFsOpRefBit)) : id;
  };
  std::set<uint64_t> inodes;
  std::set<std::pair<uint64_t, std::string>> names;
  for (int i = 0; i < payload.ops_size(); ++i) {
    const v1::FsOp& op = payload.ops(i);
    switch (op.op_case()) {
      case v1::FsOp::kCreate:
        inodes.insert(created(static_cast<uint32_t>(i)));
        inodes.insert(resolve(op.create().parent()));
        names.insert({resolve(op.create().parent()), op.create().name()});
        break;
      case v1::FsOp::kLink:
        inodes.insert(resolve(op.link().inode()));
        inodes.insert(resolve(op.link().parent()));
        names.insert({resolve(op.link().parent()), op.link().name()});
        break;
      case v1::FsOp::kMove: {
        // A directory's and a file's first entry carry the inode's id.
        inodes.insert(resolve(op.move().entry()));
        if (op.move().parent() != kFsTrashId) {
          inodes.insert(resolve(op.move().parent()));
          names.insert({resolve(op.move().parent()), op.move().name()});
        }
        // Where the entry was shown before: the name it left. The move log keeps the entry
        // as it was before the move (as of the moves ordered before it).
        if (state == nullptr) break;
        v1::FsMoveRecord record;
        auto found = state->Read(fs::TablePrefix(fs::kMoveLogTable) +
                                     fs::Stamp(intention.body.hlc(), intention.hash,
                                               static_cast<uint32_t>(i)),
                                 &record);
        if (!found.ok() || !*found || !record.existed()) break;
        if (auto old = fs::ShownPlace(record.before()); old && old->parent() != 0) {
          inodes.insert(old->parent());
          names.insert({old->parent(), old->name()});
        }
        break;
      }
      case v1::FsOp::kWrite:
        inodes.insert(resolve(op.write().inode()));
        if (state != nullptr) AddShownPlaces(*state, resolve(op.write().inode()), &inodes, &names);
        break;
      case v1::FsOp::kSetAttr:
        inodes.insert(resolve(op.set_attr().inode()));
        break;
      case v1::FsOp::kSetXattr:
        inodes.insert(resolve(op.set_xattr().inode()));
        break;
      case v1::FsOp::kResolve:
        inodes.insert(resolve(op.resolve().inode()));
        if (state != nullptr) {
          AddShownPlaces(*state, resolve(op.resolve().inode()), &inodes, &names);
        }
        break;
      case v1::FsOp::OP_NOT_SET:
        break;
    }
  }
  if (state != nullptr) {
    std::set<uint64_t> parents, walked;
    for (const auto& place : names) parents.insert(place.first);
    for (uint64_t parent : parents) {
      AddRevivedDirectories(*state, parent, &walked, &inodes, &names);
    }
  }
  for (uint64_t ino : inodes) out->add_inodes(ino);
  for (const auto& [parent, name] : names) {
    auto* n = out->add_names();
    n->set_parent(parent);
    n->set_name(name);
  }
  out->set_author(ToHex(intention.body.author()));
  out->set_local(intention.body.author() == own_author);
  return true;
}

bool FsChangeShowsMoreThanItsCalls(const DecodedIntention& intention,
                                   const fs::FsSource& state) {
  if (intention.body.op_type() != kOpFs) return false;
  v1::FsPayload payload;
  if (!payload.ParseFromString(intention.body.payload())) return false;
  // The view keeps a reference to the names it is given: this one outlives it. (No name is
  // read here.)
  const FsReader::NameOf no_names = [](std::string_view) { return std::string(); };
  fs::View view(state, no_names);
  for (const v1::FsOp& op : payload.ops()) {
    if (op.has_resolve()) return true;
    if (!op.has_write() || IsFsOpRef(op.write().inode())) continue;
    uint64_t ino = op.write().inode();
    size_t heads = 0;
    auto counted = state.ScanPrefix(fs::Key(fs::kHeadTable, ino),
                                    [&](std::string_view, std::string_view) { return ++heads < 2; });
    if (!counted.ok() || heads > 1) return true;
    // A name in the trash that this write shows again (an edit concurrent with its unlink).
    auto entries = view.IdsUnder(fs::Key(fs::kInodeEntriesTable, ino));
    if (!entries.ok()) return true;
    for (const auto& [entry, unused] : *entries) {
      auto record = fs::ReadEntry(state, entry);
      if (!record.ok()) return true;
      if (!*record || (*record)->place().parent() != kFsTrashId) continue;
      auto shown = view.Shown(**record);
      if (!shown.ok() || *shown) return true;
    }
  }
  return false;
}

grpc::ServerWriteReactor<v1::FsWatchResponse>* OpenFsWatch(ServiceContext& ctx,
                                                           grpc::CallbackServerContext* context,
                                                           const v1::FsWatchRequest* request,
                                                           const FsWriterTags* tags) {
  return StreamReactor<v1::FsWatchResponse>::Open<FsWatchStream>(ctx, context, request, tags);
}

}  // namespace lattice::kernel
