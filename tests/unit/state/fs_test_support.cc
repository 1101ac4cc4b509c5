#include "unit/state/fs_test_support.h"

#include <filesystem>

#include "lattice/common/crypto.h"
#include "storage/keys.h"

namespace lattice::kernel::testing {

FsScratch::FsScratch() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lattice-fs-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

FsScratch::~FsScratch() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

FsAuthor MakeFsAuthor(std::string_view name, char fill) {
  return FsAuthor{std::string(32, fill), std::string(name)};
}

DecodedIntention FsIntention(const FsAuthor& author, uint64_t wall_ms, uint32_t counter,
                             const v1::FsPayload& payload) {
  static uint64_t serial = 0;
  DecodedIntention intention;
  intention.body.set_author(author.id);
  intention.body.set_seq(++serial);
  intention.body.mutable_hlc()->set_wall_ms(wall_ms);
  intention.body.mutable_hlc()->set_counter(counter);
  intention.body.set_op_type(std::string(kOpFs));
  intention.body.set_payload(payload.SerializeAsString());
  intention.hash = Blake2b256(intention.body.SerializeAsString());
  return intention;
}

namespace fsop {
v1::FsOp Create(uint64_t parent, std::string_view name, uint32_t mode, std::string_view target) {
  v1::FsOp op;
  auto* c = op.mutable_create();
  c->set_parent(parent);
  c->set_name(std::string(name));
  c->mutable_attr()->set_mode(mode);
  c->mutable_attr()->mutable_ctime()->set_sec(1);
  c->set_symlink_target(std::string(target));
  return op;
}
v1::FsOp Link(uint64_t inode, uint64_t parent, std::string_view name) {
  v1::FsOp op;
  op.mutable_link()->set_inode(inode);
  op.mutable_link()->set_parent(parent);
  op.mutable_link()->set_name(std::string(name));
  return op;
}
v1::FsOp Move(uint64_t entry, uint64_t parent, std::string_view name,
              std::vector<std::string> seen) {
  v1::FsOp op;
  op.mutable_move()->set_entry(entry);
  op.mutable_move()->set_parent(parent);
  op.mutable_move()->set_name(std::string(name));
  for (auto& s : seen) op.mutable_move()->add_seen_versions(s);
  return op;
}
v1::FsOp Write(uint64_t inode, uint64_t size, std::vector<std::string> replaces) {
  v1::FsOp op;
  auto* w = op.mutable_write();
  w->set_inode(inode);
  w->set_size(size);
  if (size > 0) {
    auto* e = w->add_extents();
    e->set_hash(Blake2b256(std::to_string(size)));
    e->set_length(size);
  }
  for (auto& r : replaces) w->add_replaces(r);
  return op;
}
v1::FsOp SetMode(uint64_t inode, uint32_t mode) {
  v1::FsOp op;
  op.mutable_set_attr()->set_inode(inode);
  op.mutable_set_attr()->set_mode(mode);
  return op;
}
v1::FsOp SetXattr(uint64_t inode, std::string_view name, std::string_view value, bool remove) {
  v1::FsOp op;
  op.mutable_set_xattr()->set_inode(inode);
  op.mutable_set_xattr()->set_name(std::string(name));
  op.mutable_set_xattr()->set_value(std::string(value));
  op.mutable_set_xattr()->set_remove(remove);
  return op;
}
v1::FsOp Resolve(uint64_t inode, std::vector<std::string> versions) {
  v1::FsOp op;
  op.mutable_resolve()->set_inode(inode);
  for (auto& v : versions) op.mutable_resolve()->add_versions(v);
  return op;
}
}  // namespace fsop

v1::FsPayload Payload(std::vector<v1::FsOp> ops) {
  v1::FsPayload payload;
  for (auto& op : ops) *payload.add_ops() = std::move(op);
  return payload;
}

FsReplica::FsReplica() {
  auto db = Database::Open(dir_.path() + "/db");
  if (!db.ok()) std::abort();
  db_ = *std::move(db);
}

absl::Status FsReplica::Apply(const DecodedIntention& intention) {
  BatchView view(*db_);
  absl::Status applied = machine_.Apply(view, intention, Freshness::kUnknown);
  if (!view.status().ok()) return view.status();
  if (!applied.ok()) {
    EXPECT_TRUE(view.empty()) << "a refused payload wrote something";
    return applied;
  }
  return db_->Write(view.batch(), false);
}

std::string FsReplica::Dump() const {
  std::string out;
  std::string prefix{keys::kState};
  auto s = db_->Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    out.append(std::to_string(k.size())).append(":").append(k);
    out.append(std::to_string(v.size())).append(":").append(v);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

FsReader FsReplica::Reader() const {
  auto names = names_;
  return FsReader(*db_, [names](std::string_view author) {
    auto it = names.find(std::string(author));
    return it == names.end() ? std::string() : it->second;
  });
}

std::vector<std::string> ShownNames(const FsReader& reader, uint64_t dir) {
  bool end = false;
  auto listed = reader.List(dir, 0, 1 << 20, &end);
  EXPECT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> out;
  if (listed.ok()) {
    for (const auto& e : *listed) out.push_back(e.name);
  }
  return out;
}

}  // namespace lattice::kernel::testing
