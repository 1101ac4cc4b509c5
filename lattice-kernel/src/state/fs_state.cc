#include "state/fs_state.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "state/fs_content.h"
#include "state/fs_keys.h"
#include "state/fs_payload.h"
#include "state/fs_reader.h"
#include "state/fs_tree.h"

namespace lattice::kernel {
namespace {

using fs::Key;

// What an op of the payload being applied creates, for the ops after it.
struct Created {
  bool inode = false;  // a create (inode and entry); else a link (entry only)
  uint32_t type = 0;   // S_IFMT of the inode
};

class Checker {
 public:
  Checker(const fs::FsSource& source, const v1::FsPayload& payload,
          const DecodedIntention& intention)
      : source_(source), payload_(payload), intention_(intention) {}

  // Resolves an id naming an inode at op `at`; `type` gets its S_IFMT bits.
  absl::StatusOr<uint64_t> Inode(uint64_t id, int at, uint32_t* type) {
    if (IsFsOpRef(id)) {
      LATTICE_ASSIGN_OR_RETURN(auto created, Earlier(id, at));
      if (!created.inode) return Bad(at, "names a link op as an inode");
      *type = created.type;
      return CreatedId(static_cast<uint32_t>(id & ~kFsOpRefBit));
    }
    if (auto minted = minted_.find(id); minted != minted_.end()) {
      *type = minted->second;
      return id;
    }
    LATTICE_ASSIGN_OR_RETURN(auto record, fs::ReadInodeRecord(source_, id));
    if (!record) return Bad(at, fmt::format("names inode {}, which does not exist", id));
    *type = record->type();
    return id;
  }

  absl::StatusOr<uint64_t> Directory(uint64_t id, int at) {
    uint32_t type = 0;
    LATTICE_ASSIGN_OR_RETURN(uint64_t ino, Inode(id, at, &type));
    if (type != S_IFDIR) return Bad(at, fmt::format("parent {} is not a directory", id));
    return ino;
  }

  absl::StatusOr<uint64_t> Entry(uint64_t id, int at) {
    if (IsFsOpRef(id)) {
      LATTICE_RETURN_IF_ERROR(Earlier(id, at).status());
      return CreatedId(static_cast<uint32_t>(id & ~kFsOpRefBit));
    }
    if (id == kFsRootId || id == kFsTrashId) return Bad(at, "moves the root or the trash");
    if (minted_.count(id) != 0) return id;  // a minted file's first entry has its id
    LATTICE_ASSIGN_OR_RETURN(auto entry, fs::ReadEntry(source_, id));
    if (!entry) return Bad(at, fmt::format("names entry {}, which does not exist", id));
    return id;
  }

  // A create with a nonce: its id may name neither an inode that exists nor one an earlier
  // op of the payload minted (a client that sent its create twice, or an author reusing a
  // nonce). Checked on every node alike, since every node applies the author's intentions in
  // the order of its chain.
  absl::Status Mint(int at, uint32_t type) {
    uint64_t id = CreatedId(static_cast<uint32_t>(at));
    bool exists = minted_.count(id) != 0;
    if (!exists) {
      LATTICE_ASSIGN_OR_RETURN(auto record, fs::ReadInodeRecord(source_, id));
      exists = record.has_value();
    }
    if (exists) return Bad(at, fmt::format("mints inode {}, which exists already", id));
    minted_[id] = type;
    return absl::OkStatus();
  }

  void Record(int at, Created created) { created_[at] = created; }

  absl::Status Bad(int at, std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("fs op {}: {}", at, what));
  }

 private:
  absl::StatusOr<Created> Earlier(uint64_t ref, int at) {
    uint64_t index = ref & ~kFsOpRefBit;
    auto it = index < static_cast<uint64_t>(at) ? created_.find(static_cast<int>(index))
                                                : created_.end();
    if (it == created_.end()) {
      return Bad(at, "refers to an op that is not an earlier create or link of its payload");
    }
    return it->second;
  }

  uint64_t CreatedId(uint32_t index) const {
    return FsCreatedId(payload_.ops(static_cast<int>(index)), intention_.body.author(),
                       intention_.hash, index);
  }

  const fs::FsSource& source_;
  const v1::FsPayload& payload_;
  const DecodedIntention& intention_;
  std::map<int, Created> created_;
  std::map<uint64_t, uint32_t> minted_;  // minted id -> S_IFMT, by the ops checked so far
};

// Turns a write in delta form into the full form: its base's extents with its splices
// applied. The base's intention must be cited by this intention (its prev or a dep), so on
// every node it was applied before this one and the base exists here exactly when it exists
// everywhere: a base not cited, not a version of this inode (its write was refused, or a
// hostile author named something else), or splices that do not fit it, refuse the payload
// alike on every node, whatever the order intentions arrived in.
absl::Status ResolveDelta(const fs::FsSource& source, const DecodedIntention& intention,
                          v1::FsWrite* write, int at) {
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("fs op {}: {}", at, what));
  };
  std::string_view base_intention = std::string_view(write->base()).substr(0, kHashBytes);
  const auto& deps = intention.body.deps();
  bool cited = intention.body.prev() == base_intention ||
               std::find(deps.begin(), deps.end(), base_intention) != deps.end();
  if (!cited) {
    return bad("names a base version whose intention it does not cite (prev or deps)");
  }
  v1::FsVersionRecord base;
  LATTICE_ASSIGN_OR_RETURN(bool found,
                           source.Read(Key(fs::kVersionTable, write->inode(), write->base()), &base));
  if (!found) return bad(fmt::format("names a base version inode {} does not have", write->inode()));
  auto resolved = fs::ResolveFsSplices(base.version().extents(), write->splices());
  if (!resolved.ok()) {
    return absl::Status(resolved.status().code(),
                        fmt::format("fs op {}: {}", at, resolved.status().message()));
  }
  uint64_t size = 0;
  for (const auto& e : *resolved) size += e.length();
  if (size != write->size()) {
    return bad(fmt::format("its splices make a version of {} bytes but its size is {}", size,
                           write->size()));
  }
  *write->mutable_extents() = *std::move(resolved);
  write->clear_base();
  write->clear_splices();
  return absl::OkStatus();
}

// Checks every op against the state (and the ops before it) and resolves its ids in place.
absl::Status CheckAndResolve(const fs::FsSource& source, v1::FsPayload* payload,
                             const DecodedIntention& intention) {
  Checker check(source, *payload, intention);
  for (int i = 0; i < payload->ops_size(); ++i) {
    v1::FsOp* op = payload->mutable_ops(i);
    switch (op->op_case()) {
      case v1::FsOp::kCreate: {
        auto* c = op->mutable_create();
        LATTICE_ASSIGN_OR_RETURN(uint64_t parent, check.Directory(c->parent(), i));
        c->set_parent(parent);
        if (!c->nonce().empty()) {
          LATTICE_RETURN_IF_ERROR(check.Mint(i, c->attr().mode() & S_IFMT));
        }
        check.Record(i, Created{true, c->attr().mode() & S_IFMT});
        break;
      }
      case v1::FsOp::kLink: {
        auto* l = op->mutable_link();
        uint32_t type = 0;
        LATTICE_ASSIGN_OR_RETURN(uint64_t ino, check.Inode(l->inode(), i, &type));
        if (type == S_IFDIR) return check.Bad(i, "links a directory");
        LATTICE_ASSIGN_OR_RETURN(uint64_t parent, check.Directory(l->parent(), i));
        l->set_inode(ino);
        l->set_parent(parent);
        check.Record(i, Created{false, type});
        break;
      }
      case v1::FsOp::kMove: {
        auto* m = op->mutable_move();
        LATTICE_ASSIGN_OR_RETURN(uint64_t entry, check.Entry(m->entry(), i));
        m->set_entry(entry);
        if (m->parent() != kFsTrashId) {
          LATTICE_ASSIGN_OR_RETURN(uint64_t parent, check.Directory(m->parent(), i));
          m->set_parent(parent);
        }
        break;
      }
      case v1::FsOp::kWrite: {
        uint32_t type = 0;
        LATTICE_ASSIGN_OR_RETURN(uint64_t ino, check.Inode(op->write().inode(), i, &type));
        if (type != S_IFREG) return check.Bad(i, "writes content to what is not a regular file");
        op->mutable_write()->set_inode(ino);
        if (!op->write().base().empty()) {
          LATTICE_RETURN_IF_ERROR(ResolveDelta(source, intention, op->mutable_write(), i));
        }
        break;
      }
      case v1::FsOp::kResolve: {
        uint32_t type = 0;
        LATTICE_ASSIGN_OR_RETURN(uint64_t ino, check.Inode(op->resolve().inode(), i, &type));
        if (type != S_IFREG) return check.Bad(i, "resolves what is not a regular file");
        op->mutable_resolve()->set_inode(ino);
        break;
      }
      case v1::FsOp::kSetAttr: {
        uint32_t type = 0;
        LATTICE_ASSIGN_OR_RETURN(uint64_t ino, check.Inode(op->set_attr().inode(), i, &type));
        op->mutable_set_attr()->set_inode(ino);
        break;
      }
      case v1::FsOp::kSetXattr: {
        uint32_t type = 0;
        LATTICE_ASSIGN_OR_RETURN(uint64_t ino, check.Inode(op->set_xattr().inode(), i, &type));
        op->mutable_set_xattr()->set_inode(ino);
        break;
      }
      case v1::FsOp::OP_NOT_SET:
        return check.Bad(i, "has no known kind");
    }
  }
  return absl::OkStatus();
}

void SetU32(v1::FsU32Register* reg, uint32_t value, const std::string& at) {
  if (at > reg->at()) {
    reg->set_value(value);
    reg->set_at(at);
  }
}

void SetTime(v1::FsTimeRegister* reg, const v1::FsTime& value, const std::string& at) {
  if (at > reg->at()) {
    *reg->mutable_value() = value;
    reg->set_at(at);
  }
}

absl::Status UpdateInode(BatchView& view, uint64_t ino,
                         const std::function<void(v1::FsInodeRecord*)>& change) {
  fs::ViewSource source(view);
  LATTICE_ASSIGN_OR_RETURN(auto record, fs::ReadInodeRecord(source, ino));
  if (!record) return absl::DataLossError("an fs inode vanished while applying");
  change(&*record);
  view.Put(Key(fs::kInodeTable, ino), record->SerializeAsString());
  return absl::OkStatus();
}

absl::Status ApplyOp(BatchView& view, const DecodedIntention& intention, const v1::FsOp& op,
                     uint32_t index) {
  const std::string at = fs::Stamp(intention.body.hlc(), intention.hash, index);
  const std::string& author = intention.body.author();
  switch (op.op_case()) {
    case v1::FsOp::kCreate: {
      const auto& c = op.create();
      uint64_t ino = FsCreatedId(op, author, intention.hash, index);
      uint32_t type = c.attr().mode() & S_IFMT;
      v1::FsInodeRecord record;
      record.set_type(type);
      if (type == S_IFCHR || type == S_IFBLK) record.set_rdev(c.attr().rdev());
      record.set_symlink_target(c.symlink_target());
      record.set_created_at(at);
      SetU32(record.mutable_perm(), c.attr().mode() & 07777, at);
      SetU32(record.mutable_uid(), c.attr().uid(), at);
      SetU32(record.mutable_gid(), c.attr().gid(), at);
      SetTime(record.mutable_atime(), c.attr().atime(), at);
      SetTime(record.mutable_mtime(), c.attr().mtime(), at);
      SetTime(record.mutable_ctime(), c.attr().ctime(), at);
      view.Put(Key(fs::kInodeTable, ino), record.SerializeAsString());
      v1::FsMoveRecord move;
      move.set_entry(ino);
      move.set_inode(ino);
      move.set_dir(type == S_IFDIR);
      move.set_parent(c.parent());
      move.set_name(c.name());
      move.set_author(author);
      move.set_seq(intention.body.seq());
      return fs::ApplyFsMove(view, at, std::move(move), /*new_entry=*/true);
    }
    case v1::FsOp::kLink: {
      v1::FsMoveRecord move;
      move.set_entry(FsDerivedId(intention.hash, index));
      move.set_inode(op.link().inode());
      move.set_dir(false);
      move.set_parent(op.link().parent());
      move.set_name(op.link().name());
      move.set_author(author);
      move.set_seq(intention.body.seq());
      return fs::ApplyFsMove(view, at, std::move(move), /*new_entry=*/true);
    }
    case v1::FsOp::kMove: {
      fs::ViewSource source(view);
      LATTICE_ASSIGN_OR_RETURN(auto entry, fs::ReadEntry(source, op.move().entry()));
      if (!entry) return absl::DataLossError("an fs entry vanished while applying");
      v1::FsMoveRecord move;
      move.set_entry(op.move().entry());
      move.set_inode(entry->inode());
      move.set_dir(entry->dir());
      move.set_parent(op.move().parent());
      move.set_name(op.move().name());
      move.set_author(author);
      move.set_seq(intention.body.seq());
      *move.mutable_seen_versions() = op.move().seen_versions();
      return fs::ApplyFsMove(view, at, std::move(move), /*new_entry=*/false);
    }
    case v1::FsOp::kWrite: {
      const auto& w = op.write();
      v1::FsVersionRecord version;
      v1::FsVersion* v = version.mutable_version();
      v->set_id(FsVersionId(intention.hash, index));
      *v->mutable_hlc() = intention.body.hlc();
      v->set_author(author);
      v->set_size(w.size());
      *v->mutable_extents() = w.extents();
      if (w.has_mtime()) *v->mutable_mtime() = w.mtime();
      *version.mutable_replaces() = w.replaces();
      version.set_seq(intention.body.seq());
      fs::ApplyFsWrite(view, w.inode(), version);
      if (w.has_mtime() || w.has_ctime()) {
        return UpdateInode(view, w.inode(), [&](v1::FsInodeRecord* r) {
          if (w.has_mtime()) SetTime(r->mutable_mtime(), w.mtime(), at);
          if (w.has_ctime()) SetTime(r->mutable_ctime(), w.ctime(), at);
        });
      }
      return absl::OkStatus();
    }
    case v1::FsOp::kSetAttr: {
      const auto& s = op.set_attr();
      return UpdateInode(view, s.inode(), [&](v1::FsInodeRecord* r) {
        if (s.has_mode()) SetU32(r->mutable_perm(), s.mode(), at);
        if (s.has_uid()) SetU32(r->mutable_uid(), s.uid(), at);
        if (s.has_gid()) SetU32(r->mutable_gid(), s.gid(), at);
        if (s.has_atime()) SetTime(r->mutable_atime(), s.atime(), at);
        if (s.has_mtime()) SetTime(r->mutable_mtime(), s.mtime(), at);
        if (s.has_ctime()) SetTime(r->mutable_ctime(), s.ctime(), at);
      });
    }
    case v1::FsOp::kSetXattr: {
      const auto& x = op.set_xattr();
      std::string key = Key(fs::kXattrTable, x.inode(), x.name());
      fs::ViewSource source(view);
      v1::FsXattrRecord record;
      LATTICE_ASSIGN_OR_RETURN(bool found, source.Read(key, &record));
      if (!found || at > record.at()) {
        record.set_value(x.value());
        record.set_removed(x.remove());
        record.set_at(at);
        view.Put(key, record.SerializeAsString());
      }
      return absl::OkStatus();
    }
    case v1::FsOp::kResolve:
      fs::ApplyFsResolve(view, op.resolve().inode(), op.resolve().versions());
      return absl::OkStatus();
    case v1::FsOp::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("an fs op has no known kind");
}

}  // namespace

std::string_view FsStateMachine::op_type() const { return kOpFs; }

absl::Status FsStateMachine::Apply(BatchView& view, const DecodedIntention& intention,
                                   Freshness /*freshness*/) {
  if (intention.body.op_type() != kOpFs) {
    return absl::InvalidArgumentError(
        fmt::format("op_type \"{}\" is not understood by an fs store", intention.body.op_type()));
  }
  LATTICE_ASSIGN_OR_RETURN(v1::FsPayload payload, ParseFsPayload(intention.body.payload()));
  {
    fs::ViewSource source(view);
    LATTICE_RETURN_IF_ERROR(CheckAndResolve(source, &payload, intention));
  }
  for (int i = 0; i < payload.ops_size(); ++i) {
    LATTICE_RETURN_IF_ERROR(ApplyOp(view, intention, payload.ops(i), static_cast<uint32_t>(i)));
  }
  return absl::OkStatus();
}

}  // namespace lattice::kernel
