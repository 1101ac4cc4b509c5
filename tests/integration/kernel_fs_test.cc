// The Fs service of a real kernel through FsClient: entries, directories read in pages with
// stable offsets, rename and its flags, hard links, an unlinked file still written while open,
// xattrs, statfs, the errnos and limits of every call, token scoping, the watch, content in
// chunks with holes, and a file's history and restore.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <cerrno>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/fs_commits.h"
#include "harness/kernel_process.h"
#include "harness/process.h"
#include "lattice/client/fs_client.h"
#include "lattice/client/watch_canceller.h"
#include "lattice/common/crypto.h"
#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_ids.h"
#include "lattice/common/fs_limits.h"
#include "lattice/common/published_witness.h"

namespace lattice::testing {
namespace {

constexpr uint64_t kRoot = 1;

template <typename T>
int ErrnoOf(const absl::StatusOr<T>& result) {
  return result.ok() ? 0 : FsErrnoOf(result.status());
}

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i * 31 % 251));
  return s;
}

class KernelFs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    auto created = admin_->CreateStore("drive", "fs");
    ASSERT_TRUE(created.ok()) << created.status();
    fs_ = std::make_unique<client::FsClient>(*admin_, "drive");
  }

  v1::FsEntryReply Make(uint64_t parent, const std::string& name, uint32_t mode) {
    v1::FsCreateRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_mode(mode);
    request.set_uid(1000);
    request.set_gid(1000);
    auto made = fs_->Create(request);
    EXPECT_TRUE(made.ok()) << name << ": " << made.status();
    return made.ok() ? *made : v1::FsEntryReply();
  }

  absl::StatusOr<v1::FsChangeReply> Rename(uint64_t parent, const std::string& name,
                                           uint64_t new_parent, const std::string& new_name,
                                           uint32_t flags = 0) {
    v1::FsRenameRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_new_parent(new_parent);
    request.set_new_name(new_name);
    request.set_flags(flags);
    return fs_->Rename(request);
  }

  // Uploads `data` as chunks of at most `chunk` bytes; returns their extents.
  std::vector<v1::FsExtent> Upload(const std::string& data, size_t chunk) {
    std::vector<v1::FsExtent> extents;
    v1::FsPutChunksRequest put;
    for (size_t at = 0; at < data.size(); at += chunk) {
      std::string piece = data.substr(at, chunk);
      v1::FsExtent extent;
      extent.set_hash(Blake2b256(piece));
      extent.set_length(piece.size());
      extents.push_back(extent);
      auto* c = put.add_chunks();
      c->set_hash(extent.hash());
      c->set_data(piece);
    }
    auto stored = fs_->PutChunks(put);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return extents;
  }

  absl::StatusOr<v1::FsStat> Commit(uint64_t ino, const std::vector<v1::FsExtent>& extents,
                                    const std::string& based_on) {
    return fs_->Commit(FsCommitOf(ino, extents, based_on));
  }

  std::string ReadAll(uint64_t ino, const std::string& version = "") {
    std::string out;
    while (true) {
      v1::FsReadRequest request;
      request.set_ino(ino);
      request.set_offset(out.size());
      request.set_length(1 << 20);
      request.set_version(version);
      auto read = fs_->Read(request);
      EXPECT_TRUE(read.ok()) << read.status();
      if (!read.ok() || read->data().empty()) return out;
      out += read->data();
    }
  }

  std::set<std::string> List(uint64_t dir, uint32_t page) {
    std::set<std::string> names;
    uint64_t offset = 0;
    for (int pages = 0; pages < 1000; ++pages) {
      v1::FsReadDirRequest request;
      request.set_ino(dir);
      request.set_offset(offset);
      request.set_max_entries(page);
      auto listed = fs_->ReadDir(request);
      EXPECT_TRUE(listed.ok()) << listed.status();
      if (!listed.ok()) break;
      for (const auto& e : listed->entries()) {
        EXPECT_TRUE(names.insert(e.name()).second) << "listed twice: " << e.name();
        offset = e.offset();
      }
      if (listed->end() || listed->entries().empty()) break;
    }
    return names;
  }

  // Runs `request` until the stream passed `until` (an idle stream names the cursor it
  // passed about every second), handing each change to `seen`; at most 20 s.
  void WatchUntil(v1::FsWatchRequest request, uint64_t until,
                  const std::function<void(const v1::FsChange&)>& seen) {
    uint64_t reached = 0;
    client::WatchCanceller canceller;
    std::thread deadline([&] {
      WaitFor([&] { return canceller.cancelled(); }, std::chrono::seconds(20));
      canceller.Cancel();
    });
    auto status = fs_->Watch(request, [&](const v1::FsWatchResponse& response) {
      for (const auto& change : response.changes()) seen(change);
      reached = std::max(reached, response.cursor());
      return reached < until;
    }, &canceller);
    canceller.Cancel();
    deadline.join();
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_GE(reached, until);
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
  std::unique_ptr<client::FsClient> fs_;
};

TEST_F(KernelFs, CreatedEntriesAreFoundAndStampTheirParent) {
  auto before = fs_->GetAttr(kRoot);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(S_ISDIR(before->attr().mode()));
  v1::FsEntryReply file = Make(kRoot, "notes.txt", S_IFREG | 0644);
  v1::FsEntryReply dir = Make(kRoot, "docs", S_IFDIR | 0755);
  v1::FsCreateRequest link;
  link.set_parent(kRoot);
  link.set_name("latest");
  link.set_mode(S_IFLNK | 0777);
  link.set_symlink_target("docs/notes.txt");
  auto symlink = fs_->Create(link);
  ASSERT_TRUE(symlink.ok()) << symlink.status();

  auto found = fs_->Lookup(kRoot, "notes.txt");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->stat().ino(), file.stat().ino());
  EXPECT_TRUE(S_ISREG(found->stat().attr().mode()));
  EXPECT_EQ(found->stat().attr().mode() & 07777, 0644u);
  EXPECT_EQ(found->stat().attr().uid(), 1000u);
  EXPECT_EQ(found->stat().nlink(), 1u);
  EXPECT_TRUE(S_ISDIR(dir.stat().attr().mode()));
  auto target = fs_->ReadLink(symlink->stat().ino());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->target(), "docs/notes.txt");
  EXPECT_EQ(ErrnoOf(fs_->ReadLink(file.stat().ino())), EINVAL);

  auto after = fs_->GetAttr(kRoot);
  ASSERT_TRUE(after.ok());
  auto later = [](const v1::FsTime& a, const v1::FsTime& b) {
    return a.sec() > b.sec() || (a.sec() == b.sec() && a.nsec() > b.nsec());
  };
  EXPECT_TRUE(later(after->attr().mtime(), before->attr().mtime()));
  EXPECT_TRUE(later(after->attr().ctime(), before->attr().ctime()));

  EXPECT_EQ(ErrnoOf(fs_->Create([&] {
              v1::FsCreateRequest again;
              again.set_parent(kRoot);
              again.set_name("notes.txt");
              again.set_mode(S_IFREG | 0600);
              return again;
            }())),
            EEXIST);
  EXPECT_EQ(ErrnoOf(fs_->Lookup(kRoot, "absent")), ENOENT);
  EXPECT_EQ(ErrnoOf(fs_->Lookup(file.stat().ino(), "x")), ENOTDIR);
}

TEST_F(KernelFs, ReadDirPagesResumeAtStableOffsets) {
  std::set<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    std::string name = "file-" + std::to_string(i);
    Make(kRoot, name, S_IFREG | 0644);
    expected.insert(name);
  }
  EXPECT_EQ(List(kRoot, 4), expected);
  EXPECT_EQ(List(kRoot, 0), expected);

  // An entry added between two pages never makes an earlier one show again.
  v1::FsReadDirRequest first;
  first.set_ino(kRoot);
  first.set_max_entries(10);
  auto page = fs_->ReadDir(first);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries_size(), 10);
  EXPECT_FALSE(page->end());
  Make(kRoot, "added-later", S_IFREG | 0644);
  std::set<std::string> seen;
  for (const auto& e : page->entries()) seen.insert(e.name());
  v1::FsReadDirRequest rest;
  rest.set_ino(kRoot);
  rest.set_offset(page->entries(9).offset());
  rest.set_max_entries(100);
  rest.set_plus(true);
  auto tail = fs_->ReadDir(rest);
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_TRUE(tail->end());
  for (const auto& e : tail->entries()) {
    EXPECT_TRUE(seen.insert(e.name()).second) << "listed twice: " << e.name();
    EXPECT_EQ(e.stat().ino(), e.ino());
  }
  for (const auto& name : expected) EXPECT_TRUE(seen.count(name)) << name;

  v1::FsReadDirRequest too_many;
  too_many.set_ino(kRoot);
  too_many.set_max_entries(limits::kMaxFsReadDirEntries + 1);
  auto refused = fs_->ReadDir(too_many);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
}

// lattice-fuse follows its own renames of files from the reply alone (dir_attrs.h,
// known_names.h): the time stamped on both directories, and whether a directory moved.
TEST_F(KernelFs, ARenameTellsTheTimeItStampedOnBothDirectoriesAndWhetherADirectoryMoved) {
  v1::FsEntryReply from = Make(kRoot, "from", S_IFDIR | 0755);
  v1::FsEntryReply to = Make(kRoot, "to", S_IFDIR | 0755);
  Make(from.stat().ino(), "file", S_IFREG | 0644);
  Make(from.stat().ino(), "sub", S_IFDIR | 0755);
  auto moved = Rename(from.stat().ino(), "file", to.stat().ino(), "file");
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_TRUE(moved->has_stamped());
  EXPECT_FALSE(moved->moved_directory());
  for (uint64_t dir : {from.stat().ino(), to.stat().ino()}) {
    auto stat = fs_->GetAttr(dir);
    ASSERT_TRUE(stat.ok()) << stat.status();
    for (const v1::FsTime& t : {stat->attr().mtime(), stat->attr().ctime()}) {
      EXPECT_EQ(t.sec(), moved->stamped().sec()) << dir;
      EXPECT_EQ(t.nsec(), moved->stamped().nsec()) << dir;
    }
  }
  auto dir_moved = Rename(from.stat().ino(), "sub", to.stat().ino(), "sub");
  ASSERT_TRUE(dir_moved.ok()) << dir_moved.status();
  EXPECT_TRUE(dir_moved->moved_directory());
  Make(to.stat().ino(), "empty", S_IFDIR | 0755);
  auto replaced = Rename(to.stat().ino(), "sub", to.stat().ino(), "empty");
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_TRUE(replaced->moved_directory());
  auto onto_itself = Rename(to.stat().ino(), "file", to.stat().ino(), "file");
  ASSERT_TRUE(onto_itself.ok()) << onto_itself.status();
  EXPECT_FALSE(onto_itself->has_stamped()) << "nothing changed";
}

TEST_F(KernelFs, RenameKeepsPosixRules) {
  v1::FsEntryReply a = Make(kRoot, "a", S_IFREG | 0644);
  v1::FsEntryReply b = Make(kRoot, "b", S_IFREG | 0644);
  v1::FsEntryReply dir = Make(kRoot, "dir", S_IFDIR | 0755);
  v1::FsEntryReply sub = Make(dir.stat().ino(), "sub", S_IFDIR | 0755);
  Make(sub.stat().ino(), "inside", S_IFREG | 0644);

  EXPECT_EQ(ErrnoOf(Rename(kRoot, "a", kRoot, "b", /*RENAME_NOREPLACE=*/1)), EEXIST);
  ASSERT_TRUE(Rename(kRoot, "a", kRoot, "b", /*RENAME_EXCHANGE=*/2).ok());
  EXPECT_EQ(fs_->Lookup(kRoot, "a")->stat().ino(), b.stat().ino());
  EXPECT_EQ(fs_->Lookup(kRoot, "b")->stat().ino(), a.stat().ino());
  EXPECT_EQ(ErrnoOf(Rename(kRoot, "a", kRoot, "nothing", 2)), ENOENT);
  EXPECT_EQ(ErrnoOf(Rename(kRoot, "a", kRoot, "b", 3)), EINVAL);

  // Over an existing file: the old one is gone, the moved one keeps its inode.
  ASSERT_TRUE(Rename(kRoot, "a", kRoot, "b").ok());
  EXPECT_EQ(ErrnoOf(fs_->Lookup(kRoot, "a")), ENOENT);
  EXPECT_EQ(fs_->Lookup(kRoot, "b")->stat().ino(), b.stat().ino());
  // The replaced file has no name left (an open file could still read it).
  auto replaced = fs_->GetAttr(a.stat().ino());
  if (replaced.ok()) {
    EXPECT_EQ(replaced->nlink(), 0u);
  }

  EXPECT_EQ(ErrnoOf(Rename(kRoot, "dir", sub.stat().ino(), "loop")), EINVAL);
  EXPECT_EQ(ErrnoOf(Rename(kRoot, "dir", dir.stat().ino(), "self")), EINVAL);
  Make(kRoot, "empty", S_IFDIR | 0755);
  EXPECT_EQ(ErrnoOf(Rename(kRoot, "empty", dir.stat().ino(), "sub")), ENOTEMPTY);
  EXPECT_EQ(ErrnoOf(Rename(kRoot, "b", kRoot, "empty")), EISDIR);
  EXPECT_EQ(ErrnoOf(Rename(kRoot, "empty", kRoot, "b")), ENOTDIR);
  EXPECT_EQ(ErrnoOf(fs_->Remove(dir.stat().ino(), "sub", true)), ENOTEMPTY);
  EXPECT_EQ(ErrnoOf(fs_->Remove(kRoot, "b", true)), ENOTDIR);
  EXPECT_EQ(ErrnoOf(fs_->Remove(kRoot, "dir", false)), EISDIR);
  // Moving a directory elsewhere carries its subtree.
  ASSERT_TRUE(Rename(dir.stat().ino(), "sub", kRoot, "moved").ok());
  auto inside = fs_->Lookup(sub.stat().ino(), "inside");
  EXPECT_TRUE(inside.ok()) << inside.status();
  auto moved = fs_->Lookup(kRoot, "moved");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->stat().ino(), sub.stat().ino());
  ASSERT_TRUE(fs_->Remove(kRoot, "empty", true).ok());
  EXPECT_EQ(ErrnoOf(fs_->Lookup(kRoot, "empty")), ENOENT);
}

TEST_F(KernelFs, HardLinksCountTheirNames) {
  v1::FsEntryReply file = Make(kRoot, "one", S_IFREG | 0644);
  v1::FsEntryReply dir = Make(kRoot, "d", S_IFDIR | 0755);
  auto linked = fs_->Link(file.stat().ino(), dir.stat().ino(), "two");
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->stat().nlink(), 2u);
  EXPECT_EQ(fs_->Lookup(dir.stat().ino(), "two")->stat().ino(), file.stat().ino());
  EXPECT_EQ(ErrnoOf(fs_->Link(dir.stat().ino(), kRoot, "dirlink")), EPERM);
  EXPECT_EQ(ErrnoOf(fs_->Link(file.stat().ino(), kRoot, "one")), EEXIST);
  ASSERT_TRUE(fs_->Remove(kRoot, "one", false).ok());
  auto left = fs_->GetAttr(file.stat().ino());
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(left->nlink(), 1u);
}

TEST_F(KernelFs, ContentInChunksWithAHoleReadsBack) {
  v1::FsEntryReply file = Make(kRoot, "big.bin", S_IFREG | 0644);
  std::string head = Bytes(150 * 1024, 'a');
  std::string tail = Bytes(70 * 1024, 'q');
  std::vector<v1::FsExtent> extents = Upload(head, 64 * 1024);

  v1::FsMissingChunksRequest ask;
  for (const auto& e : extents) ask.add_hashes(e.hash());
  std::string absent = Blake2b256("never uploaded");
  ask.add_hashes(absent);
  auto missing = fs_->MissingChunks(ask);
  ASSERT_TRUE(missing.ok()) << missing.status();
  ASSERT_EQ(missing->missing_size(), 1);
  EXPECT_EQ(missing->missing(0), absent);

  v1::FsExtent hole;
  hole.set_length(50 * 1024);
  extents.push_back(hole);
  for (const auto& e : Upload(tail, 64 * 1024)) extents.push_back(e);
  auto committed = Commit(file.stat().ino(), extents, "");
  ASSERT_TRUE(committed.ok()) << committed.status();
  std::string expected = head + std::string(50 * 1024, '\0') + tail;
  EXPECT_EQ(committed->size(), expected.size());
  EXPECT_FALSE(committed->version().empty());
  EXPECT_EQ(ReadAll(file.stat().ino()), expected);

  v1::FsReadRequest range;
  range.set_ino(file.stat().ino());
  range.set_offset(140 * 1024);
  range.set_length(100 * 1024);
  auto part = fs_->Read(range);
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ(part->data(), expected.substr(140 * 1024, 100 * 1024));

  // Truncate inside a chunk, then extend with a hole.
  v1::FsSetAttrRequest cut;
  cut.set_ino(file.stat().ino());
  cut.set_size(100 * 1024 + 7);
  auto truncated = fs_->SetAttr(cut);
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_EQ(truncated->size(), 100 * 1024 + 7u);
  EXPECT_EQ(ReadAll(file.stat().ino()), expected.substr(0, 100 * 1024 + 7));
  cut.set_size(300 * 1024);
  ASSERT_TRUE(fs_->SetAttr(cut).ok());
  EXPECT_EQ(ReadAll(file.stat().ino()),
            expected.substr(0, 100 * 1024 + 7) + std::string(300 * 1024 - (100 * 1024 + 7), '\0'));

  // A commit citing a chunk never uploaded is refused.
  v1::FsExtent phantom;
  phantom.set_hash(absent);
  phantom.set_length(10);
  EXPECT_EQ(ErrnoOf(Commit(file.stat().ino(), {phantom}, "")), EINVAL);
}

TEST_F(KernelFs, ACommitCarriesItsChunksAlong) {
  v1::FsEntryReply file = Make(kRoot, "small.txt", S_IFREG | 0644);
  std::string data = Bytes(5000, 's');
  v1::FsCommitRequest request;
  request.set_ino(file.stat().ino());
  request.set_size(data.size());
  v1::FsExtent* extent = request.add_extents();
  extent->set_hash(Blake2b256(data));
  extent->set_length(data.size());
  v1::FsChunk* chunk = request.add_chunks();
  chunk->set_hash(extent->hash());
  chunk->set_data(data);
  auto committed = fs_->Commit(request);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(ReadAll(file.stat().ino()), data);

  // Bytes that do not match their hash are refused, and the file keeps its content.
  v1::FsCommitRequest forged = request;
  forged.set_based_on(committed->version());
  forged.mutable_extents(0)->set_hash(Blake2b256("other"));
  forged.mutable_chunks(0)->set_hash(Blake2b256("other"));
  EXPECT_EQ(ErrnoOf(fs_->Commit(forged)), EINVAL);
  EXPECT_EQ(ReadAll(file.stat().ino()), data);
}

// Many small files saved in one call: one intention for all that can be made, each answered
// on its own; a forged chunk fails its own file only; a request breaking the rules fails
// whole.
TEST_F(KernelFs, CommitManySavesItsFilesAsOneIntentionAnsweringEach) {
  std::vector<uint64_t> files;
  std::vector<std::string> contents;
  v1::FsCommitManyRequest request;
  for (int i = 0; i < 20; ++i) {
    files.push_back(Make(kRoot, "many" + std::to_string(i), S_IFREG | 0644).stat().ino());
    contents.push_back(Bytes(100 + static_cast<size_t>(i) * 1000, static_cast<char>('a' + i)));
    v1::FsCommitRequest* commit = request.add_commits();
    commit->set_ino(files.back());
    commit->set_size(contents.back().size());
    v1::FsExtent* extent = commit->add_extents();
    extent->set_hash(Blake2b256(contents.back()));
    extent->set_length(contents.back().size());
    v1::FsChunk* chunk = commit->add_chunks();
    chunk->set_hash(extent->hash());
    chunk->set_data(contents.back());
  }
  const uint64_t forged = files[7];
  request.mutable_commits(7)->mutable_chunks(0)->set_data("not what the hash says");
  auto saved = fs_->CommitMany(request);
  ASSERT_TRUE(saved.ok()) << saved.status();
  ASSERT_EQ(saved->results_size(), 20);
  EXPECT_FALSE(saved->write().hash().empty());
  std::set<std::string> intentions;
  for (int i = 0; i < 20; ++i) {
    const v1::FsCommitResult& result = saved->results(i);
    if (files[static_cast<size_t>(i)] == forged) {
      EXPECT_EQ(FsErrnoOf(result.code(), result.message()), EINVAL) << result.message();
      continue;
    }
    ASSERT_EQ(result.code(), 0) << i << ": " << result.message();
    EXPECT_EQ(result.stat().ino(), files[static_cast<size_t>(i)]);
    EXPECT_EQ(result.stat().size(), contents[static_cast<size_t>(i)].size());
    intentions.insert(result.stat().version().substr(0, 32));
    EXPECT_EQ(ReadAll(files[static_cast<size_t>(i)]), contents[static_cast<size_t>(i)]) << i;
  }
  EXPECT_EQ(intentions.size(), 1u) << "every version is an op of the one intention";
  auto untouched = fs_->GetAttr(forged);
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(untouched->size(), 0u);

  // Every commit failing: an answer for each, and no intention.
  v1::FsCommitManyRequest hopeless;
  *hopeless.add_commits() = request.commits(7);
  hopeless.mutable_commits(0)->clear_store();
  auto refused = fs_->CommitMany(hopeless);
  ASSERT_TRUE(refused.ok()) << refused.status();
  ASSERT_EQ(refused->results_size(), 1);
  EXPECT_NE(refused->results(0).code(), 0);
  EXPECT_TRUE(refused->write().hash().empty());

  // The rules of the call as a whole.
  v1::FsCommitManyRequest twice;
  *twice.add_commits() = request.commits(0);
  *twice.add_commits() = request.commits(0);
  auto doubled = fs_->CommitMany(twice);
  EXPECT_EQ(doubled.status().code(), absl::StatusCode::kInvalidArgument) << doubled.status();
  EXPECT_EQ(fs_->CommitMany(v1::FsCommitManyRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Creates a client answered before sending them: the kernel gives each file the id the
// client minted from the node's key and a nonce, alone (a create sent twice answering the
// one file) or with the file's first content in one CommitMany.
TEST_F(KernelFs, CreatesWithNoncesMakeTheIdsTheirClientMinted) {
  auto author = fs_->Author();
  ASSERT_TRUE(author.ok()) << author.status();
  ASSERT_EQ(author->size(), 32u);
  const std::string nonce = RandomBytes(kFsNonceBytes);
  v1::FsCreateRequest create;
  create.set_parent(kRoot);
  create.set_name("minted");
  create.set_mode(S_IFREG | 0644);
  create.set_nonce(nonce);
  auto made = fs_->Create(create);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->stat().ino(), FsMintedId(*author, nonce));
  auto again = fs_->Create(create);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stat().ino(), made->stat().ino());
  auto found = fs_->Lookup(kRoot, "minted");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->stat().ino(), made->stat().ino());

  const std::string dir_nonce = RandomBytes(kFsNonceBytes);
  const std::string file_nonce = RandomBytes(kFsNonceBytes);
  const uint64_t dir = FsMintedId(*author, dir_nonce);
  const uint64_t file = FsMintedId(*author, file_nonce);
  const std::string content = Bytes(5000, 'm');
  v1::FsCommitManyRequest request;
  v1::FsCreateRequest* mkdir = request.add_creates();
  mkdir->set_parent(kRoot);
  mkdir->set_name("batch");
  mkdir->set_mode(S_IFDIR | 0755);
  mkdir->set_nonce(dir_nonce);
  v1::FsCreateRequest* inside = request.add_creates();
  inside->set_parent(dir);
  inside->set_name("inside");
  inside->set_mode(S_IFREG | 0600);
  inside->set_nonce(file_nonce);
  v1::FsCommitRequest* commit = request.add_commits();
  commit->set_ino(file);
  commit->set_size(content.size());
  v1::FsExtent* extent = commit->add_extents();
  extent->set_hash(Blake2b256(content));
  extent->set_length(content.size());
  v1::FsChunk* chunk = commit->add_chunks();
  chunk->set_hash(extent->hash());
  chunk->set_data(content);
  auto saved = fs_->CommitMany(request);
  ASSERT_TRUE(saved.ok()) << saved.status();
  ASSERT_EQ(saved->created_size(), 2);
  ASSERT_EQ(saved->created(0).code(), 0) << saved->created(0).message();
  EXPECT_EQ(saved->created(0).stat().ino(), dir);
  ASSERT_EQ(saved->created(1).code(), 0) << saved->created(1).message();
  EXPECT_EQ(saved->created(1).stat().ino(), file);
  ASSERT_EQ(saved->results_size(), 1);
  ASSERT_EQ(saved->results(0).code(), 0) << saved->results(0).message();
  EXPECT_EQ(saved->results(0).stat().size(), content.size());
  EXPECT_EQ(ReadAll(file), content);
  auto listed = fs_->Lookup(dir, "inside");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->stat().ino(), file);
  EXPECT_EQ(listed->stat().attr().mode(), S_IFREG | 0600u);

  // The creates again (their answer lost): each answers its file, and nothing is written.
  v1::FsCommitManyRequest creates_only = request;
  creates_only.clear_commits();
  auto resent = fs_->CommitMany(creates_only);
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_EQ(resent->created(1).code(), 0) << resent->created(1).message();
  EXPECT_EQ(resent->created(1).stat().ino(), file);
  EXPECT_TRUE(resent->write().hash().empty());
  // A nonce of the wrong length fails the call.
  request.mutable_creates(0)->set_nonce("short");
  EXPECT_EQ(fs_->CommitMany(request).status().code(), absl::StatusCode::kInvalidArgument);
}

// Many names removed in one call: one intention for all that can be removed, each answered
// on its own, with the time stamped on their directory; a name already gone fails alone; a
// request breaking the rules fails whole.
TEST_F(KernelFs, RemoveManyRemovesItsNamesAsOneIntentionAnsweringEach) {
  const uint64_t dir = Make(kRoot, "doomed", S_IFDIR | 0755).stat().ino();
  v1::FsRemoveManyRequest request;
  for (int i = 0; i < 30; ++i) {
    const std::string name = "f" + std::to_string(i);
    Make(dir, name, S_IFREG | 0644);
    v1::FsRemoveRequest* removal = request.add_removals();
    removal->set_parent(dir);
    removal->set_name(i == 11 ? std::string("never-made") : name);
  }
  const uint64_t linked = Make(kRoot, "kept-elsewhere", S_IFREG | 0644).stat().ino();
  ASSERT_TRUE(fs_->Link(linked, dir, "second-name").ok());
  request.add_removals()->set_parent(dir);
  request.mutable_removals(30)->set_name("second-name");
  auto before = fs_->GetAttr(dir);
  ASSERT_TRUE(before.ok()) << before.status();

  auto removed = fs_->RemoveMany(request);
  ASSERT_TRUE(removed.ok()) << removed.status();
  ASSERT_EQ(removed->results_size(), 31);
  EXPECT_FALSE(removed->write().hash().empty());
  for (int i = 0; i < 31; ++i) {
    const v1::FsRemoveResult& result = removed->results(i);
    if (i == 11) {
      EXPECT_EQ(FsErrnoOf(result.code(), result.message()), ENOENT) << result.message();
      continue;
    }
    EXPECT_EQ(result.code(), 0) << i << ": " << result.message();
    EXPECT_EQ(ErrnoOf(fs_->Lookup(dir, request.removals(i).name())), ENOENT) << i;
  }
  EXPECT_TRUE(fs_->Lookup(dir, "f11").ok()) << "a removal that failed removes nothing";
  std::set<std::string> left = List(dir, 100);
  left.erase(".");
  left.erase("..");
  EXPECT_EQ(left, std::set<std::string>{"f11"});
  auto other = fs_->GetAttr(linked);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->nlink(), 1u) << "the other name of a linked file stays";
  auto after = fs_->GetAttr(dir);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->attr().mtime().SerializeAsString(), before->attr().mtime().SerializeAsString())
      << "the directory's times change with its entries";
  ASSERT_TRUE(removed->has_stamped());
  for (const v1::FsTime& t : {after->attr().mtime(), after->attr().ctime()}) {
    EXPECT_EQ(t.sec(), removed->stamped().sec());
    EXPECT_EQ(t.nsec(), removed->stamped().nsec());
  }

  // Every removal failing: an answer for each, and no intention.
  v1::FsRemoveManyRequest hopeless;
  *hopeless.add_removals() = request.removals(0);
  auto refused = fs_->RemoveMany(hopeless);
  ASSERT_TRUE(refused.ok()) << refused.status();
  ASSERT_EQ(refused->results_size(), 1);
  EXPECT_EQ(FsErrnoOf(refused->results(0).code(), refused->results(0).message()), ENOENT);
  EXPECT_TRUE(refused->write().hash().empty());
  EXPECT_FALSE(refused->has_stamped()) << "nothing changed";

  // The rules of the call as a whole.
  v1::FsRemoveManyRequest twice;
  *twice.add_removals() = request.removals(11);
  *twice.add_removals() = request.removals(11);
  EXPECT_EQ(fs_->RemoveMany(twice).status().code(), absl::StatusCode::kInvalidArgument);
  v1::FsRemoveManyRequest directory;
  directory.add_removals()->set_parent(kRoot);
  directory.mutable_removals(0)->set_name("doomed");
  directory.mutable_removals(0)->set_dir(true);
  EXPECT_EQ(fs_->RemoveMany(directory).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs_->Lookup(kRoot, "doomed").ok());
  EXPECT_EQ(fs_->RemoveMany(v1::FsRemoveManyRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::FsRemoveManyRequest too_many;
  for (size_t i = 0; i <= 32; ++i) {
    v1::FsRemoveRequest* removal = too_many.add_removals();
    removal->set_parent(dir);
    removal->set_name("n" + std::to_string(i));
  }
  EXPECT_EQ(fs_->RemoveMany(too_many).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(KernelFs, AnUnlinkedFileStaysWritableWhileOpen) {
  v1::FsEntryReply file = Make(kRoot, "scratch", S_IFREG | 0600);
  auto first = Commit(file.stat().ino(), Upload("first", 64), "");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(fs_->Remove(kRoot, "scratch", false).ok());
  EXPECT_EQ(ErrnoOf(fs_->Lookup(kRoot, "scratch")), ENOENT);
  auto second = Commit(file.stat().ino(), Upload("second", 64), first->version());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(ReadAll(file.stat().ino()), "second");
}

TEST_F(KernelFs, HistoryListsVersionsAndRestoreBringsOneBack) {
  v1::FsEntryReply file = Make(kRoot, "doc", S_IFREG | 0644);
  auto v1 = Commit(file.stat().ino(), Upload("version one", 64), "");
  ASSERT_TRUE(v1.ok()) << v1.status();
  auto v2 = Commit(file.stat().ino(), Upload("version two", 64), v1->version());
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(ReadAll(file.stat().ino()), "version two");
  EXPECT_EQ(ReadAll(file.stat().ino(), v1->version()), "version one");

  auto history = fs_->History(file.stat().ino());
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->versions_size(), 2);
  EXPECT_EQ(history->versions(0).version(), v2->version());
  EXPECT_TRUE(history->versions(0).head());
  EXPECT_FALSE(history->versions(1).head());

  v1::FsRestoreRequest restore;
  restore.set_ino(file.stat().ino());
  restore.set_version(v1->version());
  auto restored = fs_->Restore(restore);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_NE(restored->version(), v1->version());
  EXPECT_EQ(ReadAll(file.stat().ino()), "version one");
  auto conflicts = fs_->Conflicts();
  ASSERT_TRUE(conflicts.ok()) << conflicts.status();
  EXPECT_EQ(conflicts->conflicts_size(), 0);
}

TEST_F(KernelFs, XattrsKeepTheirFlagsAndErrnos) {
  v1::FsEntryReply file = Make(kRoot, "tagged", S_IFREG | 0644);
  uint64_t ino = file.stat().ino();
  v1::FsXattrRequest set;
  set.set_ino(ino);
  set.set_name("user.colour");
  set.set_value("blue");
  ASSERT_TRUE(fs_->SetXattr(set).ok());
  EXPECT_EQ(fs_->GetXattr(ino, "user.colour")->value(), "blue");
  set.set_flags(1);  // XATTR_CREATE
  EXPECT_EQ(ErrnoOf(fs_->SetXattr(set)), EEXIST);
  set.set_flags(2);  // XATTR_REPLACE
  set.set_name("user.absent");
  EXPECT_EQ(ErrnoOf(fs_->SetXattr(set)), ENODATA);
  EXPECT_EQ(ErrnoOf(fs_->GetXattr(ino, "user.absent")), ENODATA);
  auto names = fs_->ListXattr(ino);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->names_size(), 1);
  EXPECT_EQ(names->names(0), "user.colour");
  set.set_flags(0);
  set.set_name("user.big");
  set.set_value(std::string(limits::kMaxFsXattrValueBytes + 1, 'x'));
  EXPECT_EQ(ErrnoOf(fs_->SetXattr(set)), ERANGE);
  ASSERT_TRUE(fs_->RemoveXattr(ino, "user.colour").ok());
  EXPECT_EQ(ErrnoOf(fs_->RemoveXattr(ino, "user.colour")), ENODATA);
}

TEST_F(KernelFs, NamesAndCallsAreBounded) {
  v1::FsEntryReply file = Make(kRoot, "f", S_IFREG | 0644);
  v1::FsCreateRequest request;
  request.set_parent(kRoot);
  request.set_mode(S_IFREG | 0644);
  request.set_name(std::string(256, 'n'));
  EXPECT_EQ(ErrnoOf(fs_->Create(request)), ENAMETOOLONG);
  request.set_name(std::string(255, 'n'));
  EXPECT_TRUE(fs_->Create(request).ok());
  for (const char* bad : {".", "..", "a/b", ""}) {
    request.set_name(bad);
    EXPECT_EQ(ErrnoOf(fs_->Create(request)), EINVAL) << bad;
  }
  request.set_name(std::string("nul\0byte", 8));
  EXPECT_EQ(ErrnoOf(fs_->Create(request)), EINVAL);
  request.set_name("under-a-file");
  request.set_parent(file.stat().ino());
  EXPECT_EQ(ErrnoOf(fs_->Create(request)), ENOTDIR);
  request.set_parent(987654321);
  EXPECT_EQ(ErrnoOf(fs_->Create(request)), ENOENT);

  v1::FsReadRequest read;
  read.set_ino(file.stat().ino());
  read.set_length(limits::kMaxFsReadBytes + 1);
  EXPECT_EQ(fs_->Read(read).status().code(), absl::StatusCode::kResourceExhausted);
  read.set_ino(kRoot);
  read.set_length(10);
  EXPECT_EQ(ErrnoOf(fs_->Read(read)), EISDIR);

  v1::FsPutChunksRequest put;
  for (size_t i = 0; i <= limits::kMaxFsChunksPerCall; ++i) {
    std::string data = "chunk " + std::to_string(i);
    auto* c = put.add_chunks();
    c->set_hash(Blake2b256(data));
    c->set_data(data);
  }
  EXPECT_EQ(fs_->PutChunks(put).status().code(), absl::StatusCode::kResourceExhausted);
  v1::FsPutChunksRequest wrong;
  auto* c = wrong.add_chunks();
  c->set_hash(Blake2b256("one thing"));
  c->set_data("another");
  EXPECT_EQ(ErrnoOf(fs_->PutChunks(wrong)), EINVAL);
  v1::FsMissingChunksRequest ask;
  for (size_t i = 0; i <= limits::kMaxFsHashesPerCall; ++i) ask.add_hashes(std::string(32, 'h'));
  EXPECT_EQ(fs_->MissingChunks(ask).status().code(), absl::StatusCode::kResourceExhausted);

  auto statfs = fs_->StatFs();
  ASSERT_TRUE(statfs.ok()) << statfs.status();
  EXPECT_EQ(statfs->name_max(), 255u);
  EXPECT_GE(statfs->files(), 2u);
  EXPECT_GT(statfs->blocks(), 0u);
}

// The file count is kept until the store witnesses an intention (rpc/fs_inode_counts.h): a
// new file and its removal show in the next answer.
TEST_F(KernelFs, StatFsCountsTheFilesShownAfterEveryChange) {
  auto statfs = fs_->StatFs();
  ASSERT_TRUE(statfs.ok()) << statfs.status();
  EXPECT_EQ(statfs->files(), 1u) << "the root";
  auto again = fs_->StatFs();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->files(), statfs->files());
  const uint64_t file = Make(kRoot, "counted", S_IFREG | 0644).stat().ino();
  Make(kRoot, "folder", S_IFDIR | 0755);
  ASSERT_TRUE(fs_->Link(file, kRoot, "second-name").ok());
  auto more = fs_->StatFs();
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->files(), statfs->files() + 2) << "a file and a directory; a link is no file";
  ASSERT_TRUE(fs_->Remove(kRoot, "counted", false).ok());
  ASSERT_TRUE(fs_->Remove(kRoot, "second-name", false).ok());
  ASSERT_TRUE(fs_->Remove(kRoot, "folder", true).ok());
  auto fewer = fs_->StatFs();
  ASSERT_TRUE(fewer.ok()) << fewer.status();
  EXPECT_EQ(fewer->files(), statfs->files());
}

TEST_F(KernelFs, SetAttrChangesModeOwnerAndTimes) {
  v1::FsEntryReply file = Make(kRoot, "s", S_IFREG | 04755);
  v1::FsSetAttrRequest chown;
  chown.set_ino(file.stat().ino());
  chown.set_uid(42);
  auto owned = fs_->SetAttr(chown);
  ASSERT_TRUE(owned.ok()) << owned.status();
  EXPECT_EQ(owned->attr().uid(), 42u);
  EXPECT_EQ(owned->attr().mode() & 07777, 0755u);  // setuid cleared by chown
  v1::FsSetAttrRequest times;
  times.set_ino(file.stat().ino());
  times.mutable_mtime()->set_sec(1000);
  times.mutable_mtime()->set_nsec(5);
  times.set_mode(0600);
  auto stamped = fs_->SetAttr(times);
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  EXPECT_EQ(stamped->attr().mtime().sec(), 1000);
  EXPECT_EQ(stamped->attr().mtime().nsec(), 5u);
  EXPECT_EQ(stamped->attr().mode(), static_cast<uint32_t>(S_IFREG | 0600));
  EXPECT_GT(stamped->attr().ctime().sec(), 1000);
  v1::FsSetAttrRequest dir_size;
  dir_size.set_ino(kRoot);
  dir_size.set_size(0);
  EXPECT_EQ(ErrnoOf(fs_->SetAttr(dir_size)), EISDIR);
}

TEST_F(KernelFs, TokensLimitedToKeysReachNoFsStore) {
  Make(kRoot, "visible", S_IFREG | 0644);
  auto token_for = [&](std::vector<std::string> rights, std::vector<std::string> prefixes) {
    v1::CreateTokenRequest request;
    request.set_name("t");
    request.add_stores("drive");
    for (auto& r : rights) request.add_rights(r);
    for (auto& p : prefixes) request.add_prefixes(p);
    auto created = admin_->CreateToken(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->token() : std::string();
  };
  auto scoped = kernel_.Connect(token_for({"read", "write"}, {"docs/"}));
  ASSERT_TRUE(scoped.ok()) << scoped.status();
  client::FsClient scoped_fs(**scoped, "drive");
  EXPECT_EQ(scoped_fs.Lookup(kRoot, "visible").status().code(), absl::StatusCode::kPermissionDenied);

  auto reader = kernel_.Connect(token_for({"read"}, {}));
  ASSERT_TRUE(reader.ok()) << reader.status();
  client::FsClient reader_fs(**reader, "drive");
  EXPECT_TRUE(reader_fs.Lookup(kRoot, "visible").ok());
  v1::FsCreateRequest create;
  create.set_parent(kRoot);
  create.set_name("nope");
  create.set_mode(S_IFREG | 0644);
  EXPECT_EQ(reader_fs.Create(create).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(reader_fs.Author().status().code(), absl::StatusCode::kPermissionDenied)
      << "only a writer mints ids";
  v1::FsWatchRequest watch;
  EXPECT_EQ(reader_fs.Watch(watch, [](const v1::FsWatchResponse&) { return false; }).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(KernelFs, WatchShowsWhatAChangeTouched) {
  auto synced = fs_->Sync();
  ASSERT_TRUE(synced.ok()) << synced.status();
  v1::FsEntryReply file = Make(kRoot, "watched", S_IFREG | 0644);
  v1::FsWatchRequest request;
  request.set_from_cursor(synced->cursor());
  bool seen = false;
  auto status = fs_->Watch(request, [&](const v1::FsWatchResponse& response) {
    for (const auto& change : response.changes()) {
      bool inode = false;
      for (uint64_t ino : change.inodes()) inode |= ino == file.stat().ino();
      bool name = false;
      for (const auto& n : change.names()) name |= n.parent() == kRoot && n.name() == "watched";
      if (inode && name) {
        EXPECT_TRUE(change.local());
        EXPECT_GT(change.cursor(), synced->cursor());
        seen = true;
      }
    }
    return !seen;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(seen);
}

TEST_F(KernelFs, ARemoteOnlyWatchLeavesOutThisNodesChanges) {
  auto before = fs_->Sync();
  ASSERT_TRUE(before.ok()) << before.status();
  Make(kRoot, "mine", S_IFREG | 0644);
  auto after = fs_->Sync();
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_GT(after->cursor(), before->cursor());

  v1::FsWatchRequest request;
  request.set_from_cursor(before->cursor());
  request.set_remote_only(true);
  int changes = 0;
  WatchUntil(request, after->cursor(), [&](const v1::FsChange&) { ++changes; });
  EXPECT_EQ(changes, 0);
}

// A watch that skips a writer tag leaves out the changes of the calls carrying it, and no
// others of this node: a mount hears another client of its node, not itself.
TEST_F(KernelFs, AWatchSkippingAWriterLeavesOutThatWritersChangesOnly) {
  constexpr uint64_t kMine = 0x1234abcd5678ef90;
  client::FsClient mine(*admin_, "drive");
  mine.set_writer_tag(kMine);
  client::FsClient other_tag(*admin_, "drive");
  other_tag.set_writer_tag(kMine + 1);
  auto before = fs_->Sync();
  ASSERT_TRUE(before.ok()) << before.status();
  auto create = [](client::FsClient& fs, const std::string& name) {
    v1::FsCreateRequest request;
    request.set_parent(kRoot);
    request.set_name(name);
    request.set_mode(S_IFREG | 0644);
    auto made = fs.Create(request);
    EXPECT_TRUE(made.ok()) << name << ": " << made.status();
  };
  create(mine, "by-me");
  ASSERT_TRUE(mine.Remove(kRoot, "by-me", false).ok());
  create(*fs_, "by-an-untagged-client");
  create(other_tag, "by-another-tag");
  auto after = fs_->Sync();
  ASSERT_TRUE(after.ok()) << after.status();

  v1::FsWatchRequest request;
  request.set_from_cursor(before->cursor());
  request.set_skip_writer(kMine);
  std::set<std::string> named;
  WatchUntil(request, after->cursor(), [&](const v1::FsChange& change) {
    for (const auto& name : change.names()) named.insert(name.name());
  });
  EXPECT_EQ(named.count("by-me"), 0u) << "the skipped writer's create and unlink";
  EXPECT_EQ(named.count("by-an-untagged-client"), 1u);
  EXPECT_EQ(named.count("by-another-tag"), 1u);
}

TEST_F(KernelFs, AStorePublishesItsWitnessBeforeAnsweringAWriteInTheFileItsWatchNames) {
  constexpr uint64_t kMine = 0x5eed0f0a11ce5eedULL;
  client::FsClient mine(*admin_, "drive");
  mine.set_writer_tag(kMine);
  // The first response of a watch names the file and the cursor it starts at.
  v1::FsWatchRequest request;
  request.set_from_now(true);
  request.set_skip_writer(kMine);
  request.set_cursor_at_once(true);
  v1::FsWatchResponse first;
  auto watched = fs_->Watch(request, [&](const v1::FsWatchResponse& response) {
    first = response;
    return false;
  });
  ASSERT_TRUE(watched.ok()) << watched;
  ASSERT_FALSE(first.witness_file().empty());
  EXPECT_EQ(std::filesystem::path(first.witness_file()).parent_path().string(),
            WitnessDirForSocket(kernel_.socket()));
  auto published = PublishedWitnessReader::Open(first.witness_file());
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ((*published)->Read(), first.cursor());
  struct stat st {};
  ASSERT_EQ(::stat(first.witness_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0027, 0u) << "written by the kernel alone, read by its group at most";
  // Found only by the name a watch of the store tells: the directory cannot be listed but
  // by the kernel's user, and the name is not the store's id.
  struct stat dir {};
  ASSERT_EQ(::stat(WitnessDirForSocket(kernel_.socket()).c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0710u);
  auto stores = admin_->ListStores();
  ASSERT_TRUE(stores.ok()) << stores.status();
  for (const auto& store : stores->stores()) {
    EXPECT_EQ(first.witness_file().find(store.id()), std::string::npos) << store.id();
  }

  // A write is counted before it is answered: the caller reads the number it raised.
  for (int i = 0; i < 5; ++i) {
    uint64_t before = (*published)->Read();
    v1::FsCreateRequest create;
    create.set_parent(kRoot);
    create.set_name("own-" + std::to_string(i));
    create.set_mode(S_IFREG | 0644);
    ASSERT_TRUE(mine.Create(create).ok());
    EXPECT_EQ((*published)->Read(), before + 1);
  }
  // A watch leaving out this writer's changes still reaches that number, telling none.
  request.set_from_now(false);
  request.set_from_cursor(first.cursor());
  int changes = 0;
  WatchUntil(request, (*published)->Read(), [&](const v1::FsChange&) { ++changes; });
  EXPECT_EQ(changes, 0);
  // Another client's write is told, with the number it raised.
  Make(kRoot, "theirs", S_IFREG | 0644);
  uint64_t theirs = (*published)->Read();
  std::vector<uint64_t> cursors;
  WatchUntil(request, theirs, [&](const v1::FsChange& change) { cursors.push_back(change.cursor()); });
  EXPECT_EQ(cursors, std::vector<uint64_t>{theirs});

  // A kernel started again writes the same file (a mount's mapping of it stays live), with
  // the store's number from the moment the store opens.
  ASSERT_EQ(kernel_.Stop(), 0);
  ASSERT_TRUE(kernel_.Start().ok());
  struct stat again {};
  ASSERT_EQ(::stat(first.witness_file().c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, st.st_ino);
  EXPECT_EQ((*published)->Read(), theirs);
  auto admin = kernel_.Connect();
  ASSERT_TRUE(admin.ok()) << admin.status();
  client::FsClient after_restart(**admin, "drive");
  v1::FsCreateRequest create;
  create.set_parent(kRoot);
  create.set_name("after-restart");
  create.set_mode(S_IFREG | 0644);
  ASSERT_TRUE(after_restart.Create(create).ok());
  EXPECT_EQ((*published)->Read(), theirs + 1);
}

TEST_F(KernelFs, AWatchSkippingAWriterStillTellsItOfTheConflictCopyItsWriteMade) {
  constexpr uint64_t kMine = 0x0badc0ffee15600d;
  client::FsClient mine(*admin_, "drive");
  mine.set_writer_tag(kMine);
  uint64_t ino = Make(kRoot, "shared", S_IFREG | 0644).stat().ino();
  auto base = Commit(ino, Upload("base", 64), "");
  ASSERT_TRUE(base.ok()) << base.status();
  // What a watch skipping the writer hears of the changes between two cursors, as read then.
  auto heard_between = [&](uint64_t from, uint64_t to, int* naming_the_file) {
    v1::FsWatchRequest request;
    request.set_from_cursor(from);
    request.set_skip_writer(kMine);
    int heard = 0;
    WatchUntil(request, to, [&](const v1::FsChange& change) {
      ++heard;
      for (const auto& name : change.names()) *naming_the_file += name.name() == "shared";
    });
    return heard;
  };
  auto start = fs_->Sync();
  ASSERT_TRUE(start.ok()) << start.status();

  // The writer saves on the latest version: the one head, which it knows; not heard.
  auto own = mine.Commit(FsCommitOf(ino, Upload("mine, first", 64), base->version()));
  ASSERT_TRUE(own.ok()) << own.status();
  auto saved = fs_->Sync();
  ASSERT_TRUE(saved.ok()) << saved.status();
  int naming_the_file = 0;
  EXPECT_EQ(heard_between(start->cursor(), saved->cursor(), &naming_the_file), 0);

  // Another client saves on top of that; the writer saves again on the version it last saw,
  // which leaves a conflict copy next to the file: both heard, each naming the file's place.
  auto theirs = Commit(ino, Upload("theirs", 64), own->version());
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  auto stale = mine.Commit(FsCommitOf(ino, Upload("mine, second", 64), own->version()));
  ASSERT_TRUE(stale.ok()) << stale.status();
  auto after = fs_->Sync();
  ASSERT_TRUE(after.ok()) << after.status();
  auto conflicts = fs_->Conflicts();
  ASSERT_TRUE(conflicts.ok()) << conflicts.status();
  ASSERT_EQ(conflicts->conflicts_size(), 1);
  EXPECT_EQ(heard_between(saved->cursor(), after->cursor(), &naming_the_file), 2);
  EXPECT_EQ(naming_the_file, 2);
}

}  // namespace
}  // namespace lattice::testing
