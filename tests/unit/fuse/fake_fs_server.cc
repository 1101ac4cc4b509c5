// A stand-in for the kernel's Fs service, in memory, on a Unix socket: lets the lattice-fuse
// tests (tests/integration/fuse_mount_test.py --fake-server) exercise the daemon on a real
// mount where no kernel with fs stores is built. It follows fs_service.proto's contract for
// what the mount tests use (errnos in " [errno=NAME]", stable readdir offsets, chunks checked
// against their hash, versions and layouts); no replication, no persistence.
//
//   fake_fs_server SOCKET_PATH      (writes an admin cookie beside the socket)
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "lattice/common/fs_errno.h"
#include "lattice/common/paths.h"
#include "lattice/v1/fs_service.grpc.pb.h"
#include "src/content.h"

namespace {

using grpc::ServerContext;
using grpc::Status;
using namespace lattice::v1;  // NOLINT

Status Err(int err, const std::string& message) {
  absl::Status status = lattice::FsError(err, message);
  return Status(static_cast<grpc::StatusCode>(status.code()),
                std::string(status.message().data(), status.message().size()));
}

FsTime Now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  FsTime t;
  t.set_sec(ns / 1'000'000'000);
  t.set_nsec(static_cast<uint32_t>(ns % 1'000'000'000));
  return t;
}

struct Entry {
  uint64_t ino;
  uint64_t cookie;
};

struct Node {
  FsAttr attr;
  uint32_t nlink = 1;
  uint64_t parent = 0;  // directories
  std::map<std::string, Entry> entries;
  uint64_t next_cookie = 1;
  std::string target;
  std::string version;
  uint64_t size = 0;
  std::vector<FsExtent> extents;
  std::map<std::string, std::string> xattrs;
};

struct Version {
  uint64_t size = 0;
  std::vector<FsExtent> extents;
};

class FakeFs final : public Fs::Service {
 public:
  FakeFs() {
    Node root;
    root.attr.set_mode(S_IFDIR | 0755);
    *root.attr.mutable_mtime() = *root.attr.mutable_ctime() = *root.attr.mutable_atime() = Now();
    root.nlink = 2;
    root.parent = 1;
    nodes_[1] = root;
  }

  Status Lookup(ServerContext*, const FsLookupRequest* r, FsEntryReply* out) override {
    std::lock_guard lock(mu_);
    Node* dir;
    if (Status s = Dir(r->parent(), &dir); !s.ok()) return s;
    auto it = dir->entries.find(r->name());
    if (it == dir->entries.end()) return Err(ENOENT, "no such name");
    Fill(it->second.ino, out->mutable_stat());
    out->set_name(r->name());
    return Status::OK;
  }

  Status GetAttr(ServerContext*, const FsGetAttrRequest* r, FsStat* out) override {
    std::lock_guard lock(mu_);
    if (!nodes_.contains(r->ino())) return Err(ENOENT, "no such inode");
    Fill(r->ino(), out);
    return Status::OK;
  }

  Status SetAttr(ServerContext*, const FsSetAttrRequest* r, FsStat* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    Node& n = it->second;
    FsTime now = Now();
    if (r->has_mode()) n.attr.set_mode((n.attr.mode() & S_IFMT) | (r->mode() & 07777));
    if (r->has_uid() || r->has_gid()) {
      if (r->has_uid()) n.attr.set_uid(r->uid());
      if (r->has_gid()) n.attr.set_gid(r->gid());
      if (!S_ISDIR(n.attr.mode()) && !r->has_mode()) {
        n.attr.set_mode(n.attr.mode() & ~static_cast<uint32_t>(S_ISUID | S_ISGID));
      }
    }
    if (r->atime_now()) *n.attr.mutable_atime() = now;
    else if (r->has_atime()) *n.attr.mutable_atime() = r->atime();
    if (r->mtime_now()) *n.attr.mutable_mtime() = now;
    else if (r->has_mtime()) *n.attr.mutable_mtime() = r->mtime();
    if (r->has_size()) {
      if (!S_ISREG(n.attr.mode())) return Err(EISDIR, "not a file");
      std::string content = Content(n.extents, n.size);
      content.resize(r->size(), '\0');
      NewVersion(n, content);
      *n.attr.mutable_mtime() = now;
    }
    *n.attr.mutable_ctime() = now;
    Fill(r->ino(), out);
    return Status::OK;
  }

  Status ReadDir(ServerContext*, const FsReadDirRequest* r, FsReadDirResponse* out) override {
    std::lock_guard lock(mu_);
    Node* dir;
    if (Status s = Dir(r->ino(), &dir); !s.ok()) return s;
    std::map<uint64_t, std::pair<std::string, uint64_t>> by_cookie;
    for (auto& [name, e] : dir->entries) {
      if (e.cookie > r->offset()) by_cookie[e.cookie] = {name, e.ino};
    }
    uint32_t max = r->max_entries() ? r->max_entries() : 256;
    for (auto& [cookie, named] : by_cookie) {
      if (static_cast<uint32_t>(out->entries_size()) >= max) return Status::OK;
      FsDirEntry* e = out->add_entries();
      e->set_name(named.first);
      e->set_ino(named.second);
      e->set_mode(nodes_[named.second].attr.mode());
      e->set_offset(cookie);
      if (r->plus()) Fill(named.second, e->mutable_stat());
    }
    out->set_end(true);
    return Status::OK;
  }

  Status Create(ServerContext*, const FsCreateRequest* r, FsEntryReply* out) override {
    std::lock_guard lock(mu_);
    Node* dir;
    if (Status s = Dir(r->parent(), &dir); !s.ok()) return s;
    if (r->name().size() > 255) return Err(ENAMETOOLONG, "name too long");
    if (dir->entries.contains(r->name())) return Err(EEXIST, "the name exists");
    uint64_t ino = next_ino_++;
    Node n;
    n.attr.set_mode(r->mode());
    n.attr.set_uid(r->uid());
    n.attr.set_gid(r->gid());
    n.attr.set_rdev(r->rdev());
    FsTime now = Now();
    *n.attr.mutable_atime() = *n.attr.mutable_mtime() = *n.attr.mutable_ctime() = now;
    n.target = r->symlink_target();
    if (S_ISLNK(r->mode())) n.size = n.target.size();
    if (S_ISDIR(r->mode())) {
      n.nlink = 2;
      n.parent = r->parent();
      dir->nlink++;
    }
    dir->entries[r->name()] = Entry{ino, dir->next_cookie++};
    *dir->attr.mutable_mtime() = *dir->attr.mutable_ctime() = now;
    nodes_[ino] = std::move(n);
    Fill(ino, out->mutable_stat());
    out->set_name(r->name());
    return Status::OK;
  }

  Status ReadLink(ServerContext*, const FsReadLinkRequest* r, FsReadLinkResponse* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    if (!S_ISLNK(it->second.attr.mode())) return Err(EINVAL, "not a symlink");
    out->set_target(it->second.target);
    return Status::OK;
  }

  Status Link(ServerContext*, const FsLinkRequest* r, FsEntryReply* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    if (S_ISDIR(it->second.attr.mode())) return Err(EPERM, "a directory has one name");
    Node* dir;
    if (Status s = Dir(r->new_parent(), &dir); !s.ok()) return s;
    if (dir->entries.contains(r->new_name())) return Err(EEXIST, "the name exists");
    dir->entries[r->new_name()] = Entry{r->ino(), dir->next_cookie++};
    it->second.nlink++;
    *it->second.attr.mutable_ctime() = Now();
    Fill(r->ino(), out->mutable_stat());
    return Status::OK;
  }

  Status Remove(ServerContext*, const FsRemoveRequest* r, FsChangeReply*) override {
    std::lock_guard lock(mu_);
    Node* dir;
    if (Status s = Dir(r->parent(), &dir); !s.ok()) return s;
    auto it = dir->entries.find(r->name());
    if (it == dir->entries.end()) return Err(ENOENT, "no such name");
    Node& n = nodes_[it->second.ino];
    if (r->dir()) {
      if (!S_ISDIR(n.attr.mode())) return Err(ENOTDIR, "not a directory");
      if (!n.entries.empty()) return Err(ENOTEMPTY, "directory not empty");
      dir->nlink--;
    } else if (S_ISDIR(n.attr.mode())) {
      return Err(EISDIR, "a directory");
    }
    Unref(it->second.ino, r->dir());
    dir->entries.erase(it);
    *dir->attr.mutable_mtime() = *dir->attr.mutable_ctime() = Now();
    return Status::OK;
  }

  Status Rename(ServerContext*, const FsRenameRequest* r, FsChangeReply*) override {
    std::lock_guard lock(mu_);
    Node *from, *to;
    if (Status s = Dir(r->parent(), &from); !s.ok()) return s;
    if (Status s = Dir(r->new_parent(), &to); !s.ok()) return s;
    auto src = from->entries.find(r->name());
    if (src == from->entries.end()) return Err(ENOENT, "no such name");
    uint64_t ino = src->second.ino;
    bool src_dir = S_ISDIR(nodes_[ino].attr.mode());
    // Not into itself.
    if (src_dir) {
      for (uint64_t up = r->new_parent();; up = nodes_[up].parent) {
        if (up == ino) return Err(EINVAL, "a directory cannot move into itself");
        if (up == 1) break;
      }
    }
    auto dst = to->entries.find(r->new_name());
    FsTime now = Now();
    if (r->flags() & 2) {  // exchange
      if (dst == to->entries.end()) return Err(ENOENT, "nothing to exchange with");
      std::swap(src->second.ino, dst->second.ino);
      return Status::OK;
    }
    if (dst != to->entries.end()) {
      if (r->flags() & 1) return Err(EEXIST, "the name exists");
      uint64_t old = dst->second.ino;
      if (old == ino) return Status::OK;
      bool dst_dir = S_ISDIR(nodes_[old].attr.mode());
      if (src_dir && !dst_dir) return Err(ENOTDIR, "not a directory");
      if (!src_dir && dst_dir) return Err(EISDIR, "a directory");
      if (dst_dir && !nodes_[old].entries.empty()) return Err(ENOTEMPTY, "directory not empty");
      if (dst_dir) to->nlink--;
      Unref(old, dst_dir);
      to->entries.erase(dst);
    }
    from->entries.erase(r->name());
    to->entries[r->new_name()] = Entry{ino, to->next_cookie++};
    if (src_dir) {
      from->nlink--;
      to->nlink++;
      nodes_[ino].parent = r->new_parent();
    }
    *nodes_[ino].attr.mutable_ctime() = now;
    *from->attr.mutable_mtime() = *from->attr.mutable_ctime() = now;
    *to->attr.mutable_mtime() = *to->attr.mutable_ctime() = now;
    return Status::OK;
  }

  Status MissingChunks(ServerContext*, const FsMissingChunksRequest* r,
                       FsMissingChunksResponse* out) override {
    std::lock_guard lock(mu_);
    for (const auto& h : r->hashes()) {
      if (!chunks_.contains(h)) out->add_missing(h);
    }
    return Status::OK;
  }

  Status PutChunks(ServerContext*, const FsPutChunksRequest* r, FsPutChunksResponse* out) override {
    std::lock_guard lock(mu_);
    for (const auto& c : r->chunks()) {
      if (lattice::fuse::HashChunk(c.data()) != c.hash()) return Err(EINVAL, "chunk hash mismatch");
      if (chunks_.emplace(c.hash(), c.data()).second) out->set_stored(out->stored() + 1);
    }
    return Status::OK;
  }

  Status Commit(ServerContext*, const FsCommitRequest* r, FsStat* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    uint64_t total = 0;
    for (const auto& e : r->extents()) {
      if (!e.hash().empty() && !chunks_.contains(e.hash())) return Err(EINVAL, "missing chunk");
      if (!e.hash().empty() && chunks_[e.hash()].size() != e.length()) return Err(EINVAL, "bad length");
      total += e.length();
    }
    if (total != r->size()) return Err(EINVAL, "extents do not sum to the size");
    Node& n = it->second;
    n.extents.assign(r->extents().begin(), r->extents().end());
    n.size = r->size();
    n.version = "v" + std::to_string(next_version_++);
    versions_[n.version] = Version{n.size, n.extents};
    *n.attr.mutable_mtime() = r->has_mtime() ? r->mtime() : Now();
    *n.attr.mutable_ctime() = Now();
    Fill(r->ino(), out);
    return Status::OK;
  }

  Status Read(ServerContext*, const FsReadRequest* r, FsReadResponse* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    const std::vector<FsExtent>* extents = &it->second.extents;
    uint64_t size = it->second.size;
    if (!r->version().empty()) {
      auto v = versions_.find(r->version());
      if (v == versions_.end()) return Err(ENOENT, "no such version");
      extents = &v->second.extents;
      size = v->second.size;
    }
    std::string content = Content(*extents, size);
    if (r->offset() < content.size()) out->set_data(content.substr(r->offset(), r->length()));
    out->set_version(r->version().empty() ? it->second.version : r->version());
    return Status::OK;
  }

  Status Layout(ServerContext*, const FsLayoutRequest* r, FsLayoutResponse* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    std::string version = r->version().empty() ? it->second.version : r->version();
    auto v = versions_.find(version);
    if (v == versions_.end()) return Err(ENOENT, "no such version");
    out->set_version(version);
    out->set_size(v->second.size);
    for (const auto& e : v->second.extents) *out->add_extents() = e;
    return Status::OK;
  }

  Status GetXattr(ServerContext*, const FsXattrRequest* r, FsXattrResponse* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    auto x = it->second.xattrs.find(r->name());
    if (x == it->second.xattrs.end()) return Err(ENODATA, "no such attribute");
    out->set_value(x->second);
    return Status::OK;
  }
  Status SetXattr(ServerContext*, const FsXattrRequest* r, FsChangeReply*) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    bool exists = it->second.xattrs.contains(r->name());
    if ((r->flags() & 1) && exists) return Err(EEXIST, "attribute exists");
    if ((r->flags() & 2) && !exists) return Err(ENODATA, "no such attribute");
    it->second.xattrs[r->name()] = r->value();
    *it->second.attr.mutable_ctime() = Now();
    return Status::OK;
  }
  Status ListXattr(ServerContext*, const FsXattrRequest* r, FsXattrResponse* out) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    for (const auto& [name, value] : it->second.xattrs) out->add_names(name);
    return Status::OK;
  }
  Status RemoveXattr(ServerContext*, const FsXattrRequest* r, FsChangeReply*) override {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(r->ino());
    if (it == nodes_.end()) return Err(ENOENT, "no such inode");
    if (it->second.xattrs.erase(r->name()) == 0) return Err(ENODATA, "no such attribute");
    return Status::OK;
  }

  Status StatFs(ServerContext*, const FsStatFsRequest*, FsStatFsResponse* out) override {
    out->set_block_size(4096);
    out->set_blocks(1 << 24);
    out->set_blocks_free(1 << 23);
    out->set_blocks_available(1 << 23);
    out->set_files(1 << 20);
    out->set_files_free(1 << 19);
    out->set_name_max(255);
    return Status::OK;
  }

  Status Sync(ServerContext*, const FsSyncRequest*, FsSyncResponse* out) override {
    out->set_cursor(1);
    return Status::OK;
  }

  Status Watch(ServerContext* context, const FsWatchRequest*,
               grpc::ServerWriter<FsWatchResponse>*) override {
    while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return Status::CANCELLED;
  }

 private:
  Status Dir(uint64_t ino, Node** out) {
    auto it = nodes_.find(ino);
    if (it == nodes_.end()) return Err(ENOENT, "no such directory");
    if (!S_ISDIR(it->second.attr.mode())) return Err(ENOTDIR, "not a directory");
    *out = &it->second;
    return Status::OK;
  }

  void Unref(uint64_t ino, bool dir) {
    Node& n = nodes_[ino];
    n.nlink = dir ? 0 : n.nlink - 1;
    *n.attr.mutable_ctime() = Now();
    // Kept (an open file stays readable), as the trash keeps it.
  }

  std::string Content(const std::vector<FsExtent>& extents, uint64_t size) {
    std::string out;
    for (const auto& e : extents) {
      if (e.hash().empty()) out.append(e.length(), '\0');
      else out += chunks_[e.hash()];
    }
    out.resize(size, '\0');
    return out;
  }

  void NewVersion(Node& n, const std::string& content) {
    n.extents.clear();
    if (!content.empty()) {
      std::string hash = lattice::fuse::HashChunk(content);
      chunks_[hash] = content;
      FsExtent e;
      e.set_hash(hash);
      e.set_length(content.size());
      n.extents.push_back(e);
    }
    n.size = content.size();
    n.version = "v" + std::to_string(next_version_++);
    versions_[n.version] = Version{n.size, n.extents};
  }

  void Fill(uint64_t ino, FsStat* out) {
    const Node& n = nodes_[ino];
    out->set_ino(ino);
    *out->mutable_attr() = n.attr;
    out->set_size(S_ISDIR(n.attr.mode()) ? 4096 : n.size);
    out->set_nlink(n.nlink);
    uint64_t blocks = 0;
    for (const auto& e : n.extents) {
      if (!e.hash().empty()) blocks += (e.length() + 511) / 512;
    }
    out->set_blocks(blocks);
    out->set_version(n.version);
  }

  std::mutex mu_;
  std::unordered_map<uint64_t, Node> nodes_;
  std::map<std::string, std::string> chunks_;
  std::map<std::string, Version> versions_;
  uint64_t next_ino_ = 16;
  uint64_t next_version_ = 1;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fake_fs_server SOCKET_PATH\n";
    return 2;
  }
  std::string socket = argv[1];
  ::unlink(socket.c_str());
  {
    std::ofstream cookie(lattice::CookiePathForSocket(socket));
    cookie << "fake-cookie\n";
  }
  FakeFs service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  std::cout << "listening" << std::endl;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
