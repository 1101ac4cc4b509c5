// The Fs planner against a real fs store: each call planned on the group's leader through
// Store::WriteBuiltAsync and applied by the fs state machine, then read back with FsReader.
#include "rpc/fs_planner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <future>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_errno.h"
#include "lattice/common/fs_ids.h"
#include "harness/fs_commits.h"
#include "lattice/common/fs_limits.h"
#include "rpc/fs_changes.h"
#include "rpc/fs_commit_many.h"
#include "rpc/fs_remove_many.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using PlanFn = std::function<absl::StatusOr<FsPlan>(FsPlanner&)>;

FsReader::NameOf Names() {
  return [](std::string_view author) { return std::string(author.substr(0, 4)); };
}

struct Done {
  absl::StatusOr<WriteReceipt> receipt = absl::UnknownError("not run");
  FsPlan plan;
};

class FsPlannerTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    OpenStore(StoreType::kFs);
  }

  // Plans and writes one call; returns the receipt or the plan's error.
  Done Run(PlanFn fn) {
    auto plan = std::make_shared<FsPlan>();
    std::promise<absl::StatusOr<WriteReceipt>> promise;
    auto future = promise.get_future();
    store_->WriteBuiltAsync(
        kOpFs,
        [plan, fn, author = self_.public_key](BatchView& view) -> absl::StatusOr<std::string> {
          FsReader reader(view, Names());
          FsPlanner planner(reader, FsNow(), author);
          auto planned = fn(planner);
          if (!planned.ok()) return planned.status();
          *plan = *planned;
          return plan->payload.SerializeAsString();
        },
        [&promise](absl::StatusOr<WriteReceipt> r) { promise.set_value(std::move(r)); });
    Done done;
    done.receipt = future.get();
    done.plan = *plan;
    return done;
  }

  // Plans and writes one CommitMany as the service does once its chunks are there (every
  // commit's outcome starts ok); `outcomes` and `created` get each commit's and create's.
  Done RunCommitMany(const v1::FsCommitManyRequest& request, std::vector<absl::Status>& outcomes,
                     std::vector<absl::StatusOr<uint64_t>>& created) {
    return Run([&request, &outcomes, &created](FsPlanner& p) -> absl::StatusOr<FsPlan> {
      outcomes.assign(static_cast<size_t>(request.commits_size()), absl::OkStatus());
      return PlanFsCommitMany(p, request, outcomes, created);
    });
  }

  uint64_t Create(uint64_t parent, const std::string& name, uint32_t mode) {
    v1::FsCreateRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_mode(mode);
    Done done = Run([request](FsPlanner& p) { return p.Create(request); });
    EXPECT_TRUE(done.receipt.ok()) << done.receipt.status();
    if (!done.receipt.ok()) return 0;
    return FsDerivedId(done.receipt->hash, static_cast<uint32_t>(done.plan.created_op));
  }

  FsInode Inode(uint64_t ino) {
    FsReader reader(store_->db(), Names());
    auto inode = reader.Inode(ino);
    EXPECT_TRUE(inode.ok() && inode->has_value()) << ino;
    return inode.ok() && inode->has_value() ? **inode : FsInode();
  }

  std::optional<FsDirEntryView> Lookup(uint64_t parent, const std::string& name) {
    FsReader reader(store_->db(), Names());
    auto found = reader.Lookup(parent, name);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *found : std::nullopt;
  }
};

TEST_F(FsPlannerTest, ACreateIsFoundAndTouchesItsParent) {
  v1::FsTime before = Inode(kFsRootId).attr.mtime();
  uint64_t dir = Create(kFsRootId, "d", S_IFDIR | 0755);
  ASSERT_NE(dir, 0u);
  auto found = Lookup(kFsRootId, "d");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->inode, dir);
  EXPECT_TRUE(S_ISDIR(Inode(dir).attr.mode()));
  v1::FsTime after = Inode(kFsRootId).attr.mtime();
  EXPECT_TRUE(after.sec() > before.sec() || (after.sec() == before.sec() && after.nsec() > before.nsec()));
}

// Two creates of one name queued into one group: the second is planned against the state the
// first left, so it fails with EEXIST instead of making a conflict.
TEST_F(FsPlannerTest, TheSameNameCreatedTwiceInOneGroupFailsTheSecond) {
  v1::FsCreateRequest request;
  request.set_parent(kFsRootId);
  request.set_name("same");
  request.set_mode(S_IFREG | 0644);
  std::vector<std::future<absl::StatusOr<WriteReceipt>>> futures;
  std::vector<std::shared_ptr<std::promise<absl::StatusOr<WriteReceipt>>>> promises;
  for (int i = 0; i < 4; ++i) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<WriteReceipt>>>();
    futures.push_back(promise->get_future());
    promises.push_back(promise);
    store_->WriteBuiltAsync(
        kOpFs,
        [request](BatchView& view) -> absl::StatusOr<std::string> {
          FsReader reader(view, Names());
          FsPlanner planner(reader, FsNow());
          auto planned = planner.Create(request);
          if (!planned.ok()) return planned.status();
          return planned->payload.SerializeAsString();
        },
        [promise](absl::StatusOr<WriteReceipt> r) { promise->set_value(std::move(r)); });
  }
  int ok = 0;
  int exists = 0;
  for (auto& f : futures) {
    auto r = f.get();
    if (r.ok()) ++ok;
    if (!r.ok() && FsErrnoOf(r.status()) == EEXIST) ++exists;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, 3);
}

v1::FsRenameRequest RenameOf(uint64_t parent, const std::string& name, uint64_t new_parent,
                             const std::string& new_name) {
  v1::FsRenameRequest rename;
  rename.set_parent(parent);
  rename.set_name(name);
  rename.set_new_parent(new_parent);
  rename.set_new_name(new_name);
  return rename;
}

TEST_F(FsPlannerTest, RenameOverAFileUnlinksItInTheSameIntention) {
  uint64_t a = Create(kFsRootId, "a", S_IFREG | 0644);
  uint64_t b = Create(kFsRootId, "b", S_IFREG | 0644);
  v1::FsRenameRequest rename = RenameOf(kFsRootId, "a", kFsRootId, "b");
  Done done = Run([rename](FsPlanner& p) { return p.Rename(rename); });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  ASSERT_GE(done.plan.payload.ops_size(), 2);
  EXPECT_EQ(done.plan.payload.ops(0).move().parent(), kFsTrashId);
  EXPECT_EQ(Lookup(kFsRootId, "b")->inode, a);
  EXPECT_FALSE(Lookup(kFsRootId, "a").has_value());
  FsReader reader(store_->db(), Names());
  auto old = reader.Inode(b);
  ASSERT_TRUE(old.ok());
  if (old->has_value()) {
    EXPECT_FALSE((*old)->live);
  }
}

TEST_F(FsPlannerTest, SetAttrClearsSetuidOnChownAndStampsCtime) {
  uint64_t f = Create(kFsRootId, "f", S_IFREG | 06755);
  v1::FsSetAttrRequest chown;
  chown.set_ino(f);
  chown.set_gid(7);
  Done done = Run([chown](FsPlanner& p) { return p.SetAttr(chown, {}); });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  FsInode inode = Inode(f);
  EXPECT_EQ(inode.attr.gid(), 7u);
  EXPECT_EQ(inode.attr.mode() & 07777, 0755u);
}

// A large file edited a little is committed as splices of the version it was based on; the
// store cites that version's intention (not the node's latest), so the delta resolves, and the
// version kept lists every extent. A truncate and a restore are deltas too.
TEST_F(FsPlannerTest, ACommitOfASmallEditIsADeltaOfItsBase) {
  uint64_t f = Create(kFsRootId, "big", S_IFREG | 0644);
  ASSERT_NE(f, 0u);
  auto chunk = [](int n) {
    v1::FsExtent e;
    e.set_hash(Blake2b256("chunk " + std::to_string(n)));
    e.set_length(64 * 1024);
    return e;
  };
  auto commit = [&](const google::protobuf::RepeatedPtrField<v1::FsExtent>& extents,
                    const std::string& based_on) {
    v1::FsCommitRequest request;
    request.set_ino(f);
    *request.mutable_extents() = extents;
    uint64_t size = 0;
    for (const auto& e : extents) size += e.length();
    request.set_size(size);
    request.set_based_on(based_on);
    return Run([request](FsPlanner& p) { return p.Commit(request); });
  };
  google::protobuf::RepeatedPtrField<v1::FsExtent> first;
  for (int i = 0; i < 2000; ++i) *first.Add() = chunk(i);
  Done one = commit(first, "");
  ASSERT_TRUE(one.receipt.ok()) << one.receipt.status();
  const auto& full = one.plan.payload.ops(0).write();
  EXPECT_TRUE(full.base().empty()) << "a file's first content has nothing to be a delta of";
  EXPECT_EQ(full.extents_size(), 2000);
  const std::string v1 = FsVersionId(one.receipt->hash, 0);
  // Something else is written in between: the base's intention is no longer the tip.
  ASSERT_NE(Create(kFsRootId, "other", S_IFREG | 0644), 0u);

  google::protobuf::RepeatedPtrField<v1::FsExtent> edited = first;
  *edited.Mutable(1000) = chunk(5000);
  Done two = commit(edited, v1);
  ASSERT_TRUE(two.receipt.ok()) << two.receipt.status();
  const auto& delta = two.plan.payload.ops(0).write();
  EXPECT_EQ(delta.base(), v1);
  EXPECT_EQ(delta.extents_size(), 0);
  ASSERT_EQ(delta.splices_size(), 1);
  EXPECT_EQ(delta.splices(0).begin(), 1000u);
  EXPECT_EQ(delta.splices(0).end(), 1001u);
  EXPECT_LT(two.plan.payload.ByteSizeLong(), 1000u);
  {
    // Cited as a dep: the state machine refuses a base whose intention is not cited.
    auto stored = store_->FindIntention(two.receipt->hash);
    ASSERT_TRUE(stored.ok());
    v1::Intention body;
    ASSERT_TRUE(body.ParseFromString(stored->body()));
    EXPECT_NE(body.prev(), one.receipt->hash);
    EXPECT_NE(std::find(body.deps().begin(), body.deps().end(), one.receipt->hash),
              body.deps().end());
  }
  FsInode inode = Inode(f);
  ASSERT_TRUE(inode.winner.has_value());
  EXPECT_EQ(inode.winner->id(), FsVersionId(two.receipt->hash, 0));
  ASSERT_EQ(inode.winner->extents_size(), 2000);
  EXPECT_EQ(inode.winner->extents(1000).hash(), chunk(5000).hash());
  EXPECT_EQ(inode.winner->extents(1999).hash(), chunk(1999).hash());
  EXPECT_TRUE(inode.other_heads.empty());

  // A truncate of the new version: its tail dropped, as one splice.
  v1::FsSetAttrRequest truncate;
  truncate.set_ino(f);
  truncate.set_size(1500ull * 64 * 1024);
  Done three = Run([truncate](FsPlanner& p) { return p.SetAttr(truncate, {}); });
  ASSERT_TRUE(three.receipt.ok()) << three.receipt.status();
  EXPECT_FALSE(three.plan.payload.ops(0).write().base().empty());
  EXPECT_EQ(Inode(f).winner->extents_size(), 1500);

  // Restoring the first version: a delta of it with no splices at all.
  v1::FsRestoreRequest restore;
  restore.set_ino(f);
  restore.set_version(v1);
  Done four = Run([restore](FsPlanner& p) { return p.Restore(restore); });
  ASSERT_TRUE(four.receipt.ok()) << four.receipt.status();
  EXPECT_EQ(four.plan.payload.ops(0).write().base(), v1);
  EXPECT_EQ(four.plan.payload.ops(0).write().splices_size(), 0);
  EXPECT_EQ(Inode(f).winner->extents_size(), 2000);
  EXPECT_EQ(Inode(f).winner->extents(1000).hash(), chunk(1000).hash());
}

using ::lattice::testing::FsCommitOf;

v1::FsExtent ChunkExtent(const std::string& data) {
  v1::FsExtent e;
  e.set_hash(Blake2b256(data));
  e.set_length(data.size());
  return e;
}

TEST_F(FsPlannerTest, ACommitManyWritesItsFilesInOneIntentionAndFailsOnlyTheBadOnes) {
  std::vector<uint64_t> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(Create(kFsRootId, "f" + std::to_string(i), S_IFREG | 0644));
    ASSERT_NE(files.back(), 0u);
  }
  uint64_t dir = Create(kFsRootId, "d", S_IFDIR | 0755);
  v1::FsCommitManyRequest request;
  *request.add_commits() = FsCommitOf(files[0], {ChunkExtent("zero")});
  *request.add_commits() = FsCommitOf(dir, {ChunkExtent("a directory has no content")});
  *request.add_commits() = FsCommitOf(files[1], {ChunkExtent("one"), ChunkExtent("more")});
  *request.add_commits() = FsCommitOf(987654321, {ChunkExtent("nobody")});
  *request.add_commits() = FsCommitOf(files[2], {});
  ASSERT_TRUE(CheckFsCommitMany(request).ok());
  std::vector<absl::Status> outcomes;
  std::vector<absl::StatusOr<uint64_t>> created;
  Done done = RunCommitMany(request, outcomes, created);
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  EXPECT_EQ(done.plan.payload.ops_size(), 3);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(FsErrnoOf(outcomes[1]), EISDIR) << outcomes[1];
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];
  EXPECT_EQ(FsErrnoOf(outcomes[3]), ENOENT) << outcomes[3];
  EXPECT_TRUE(outcomes[4].ok()) << outcomes[4];
  // Each file's new version is an op of the one intention.
  for (uint32_t i = 0; i < 3; ++i) {
    FsInode inode = Inode(files[i]);
    ASSERT_TRUE(inode.winner.has_value()) << i;
    EXPECT_EQ(inode.winner->id(), FsVersionId(done.receipt->hash, i)) << i;
    const int asked = request.commits(2 * static_cast<int>(i)).extents_size();
    EXPECT_EQ(inode.winner->extents_size(), asked);
  }
  EXPECT_EQ(Inode(files[1]).size, 7u);
  EXPECT_EQ(Inode(files[1]).winner->extents(1).hash(), Blake2b256("more"));
  EXPECT_FALSE(Inode(dir).winner.has_value());
}

TEST_F(FsPlannerTest, ACommitWithAttributesSetsThemWithItsContentInOneIntention) {
  uint64_t file = Create(kFsRootId, "copied", S_IFREG | 0600);
  ASSERT_NE(file, 0u);
  v1::FsCommitRequest request = FsCommitOf(file, {ChunkExtent("content")});
  request.mutable_attrs()->set_mode(06755);
  request.mutable_attrs()->set_uid(1000);
  request.mutable_attrs()->set_gid(1001);
  request.mutable_attrs()->mutable_atime()->set_sec(1'600'000'000);
  *request.mutable_mtime() = request.attrs().atime();
  Done done = Run([request](FsPlanner& p) { return p.Commit(request); });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  ASSERT_EQ(done.plan.payload.ops_size(), 2);
  EXPECT_TRUE(done.plan.payload.ops(0).has_write());
  EXPECT_TRUE(done.plan.payload.ops(1).has_set_attr());
  FsInode inode = Inode(file);
  ASSERT_TRUE(inode.winner.has_value());
  EXPECT_EQ(inode.size, 7u);
  EXPECT_EQ(inode.attr.mode(), S_IFREG | 06755u) << "as given: the writer ordered its calls";
  EXPECT_EQ(inode.attr.uid(), 1000u);
  EXPECT_EQ(inode.attr.gid(), 1001u);
  EXPECT_EQ(inode.attr.atime().sec(), 1'600'000'000);
  EXPECT_EQ(inode.attr.mtime().sec(), 1'600'000'000);

  // A bad time fails the whole commit.
  v1::FsCommitRequest mode_only = FsCommitOf(file, {ChunkExtent("again")});
  mode_only.set_based_on(inode.winner->id());
  mode_only.mutable_attrs()->set_mode(04711);
  ASSERT_TRUE(Run([mode_only](FsPlanner& p) { return p.Commit(mode_only); }).receipt.ok());
  EXPECT_EQ(Inode(file).attr.mode(), S_IFREG | 04711u);
  v1::FsCommitRequest bad = FsCommitOf(file, {ChunkExtent("bad")});
  bad.mutable_attrs()->mutable_atime()->set_nsec(1'000'000'000);
  FsReader reader(store_->db(), Names());
  FsPlanner planner(reader, FsNow());
  EXPECT_EQ(FsErrnoOf(planner.Commit(bad).status()), EINVAL);
}

TEST_F(FsPlannerTest, ACreateKeepsTheTimesItsClientShowed) {
  v1::FsCreateRequest request;
  request.set_parent(kFsRootId);
  request.set_name("answered-before-sent");
  request.set_mode(S_IFREG | 0644);
  request.mutable_time()->set_sec(1'700'000'000);
  request.mutable_time()->set_nsec(123);
  Done done = Run([request](FsPlanner& p) { return p.Create(request); });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  FsInode inode =
      Inode(FsDerivedId(done.receipt->hash, static_cast<uint32_t>(done.plan.created_op)));
  for (const v1::FsTime* t : {&inode.attr.atime(), &inode.attr.mtime(), &inode.attr.ctime()}) {
    EXPECT_EQ(t->sec(), 1'700'000'000);
    EXPECT_EQ(t->nsec(), 123u);
  }
  v1::FsCreateRequest bad = request;
  bad.set_name("bad-time");
  bad.mutable_time()->set_nsec(1'000'000'000);
  FsReader reader(store_->db(), Names());
  FsPlanner planner(reader, FsNow());
  EXPECT_EQ(FsErrnoOf(planner.Create(bad).status()), EINVAL);
}

TEST_F(FsPlannerTest, ACommitKeepsTheCtimeItsWriterShowedButNeverGoesBack) {
  uint64_t file = Create(kFsRootId, "checked-out", S_IFREG | 0644);
  ASSERT_NE(file, 0u);
  const v1::FsTime created = Inode(file).attr.ctime();
  // Written a moment after its create, saved later: the ctime is the write's, not the save's.
  v1::FsTime written = created;
  written.set_nsec(written.nsec() < 999'999'000 ? written.nsec() + 1'000 : written.nsec());
  v1::FsCommitRequest request = FsCommitOf(file, {ChunkExtent("content")});
  *request.mutable_mtime() = written;
  *request.mutable_ctime() = written;
  ASSERT_TRUE(Run([request](FsPlanner& p) { return p.Commit(request); }).receipt.ok());
  FsInode inode = Inode(file);
  EXPECT_EQ(inode.attr.ctime().sec(), written.sec());
  EXPECT_EQ(inode.attr.ctime().nsec(), written.nsec());

  // With attributes folded in, their change carries the same ctime.
  v1::FsCommitRequest chmod = FsCommitOf(file, {ChunkExtent("again")});
  chmod.set_based_on(inode.winner->id());
  chmod.mutable_attrs()->set_mode(0600);
  *chmod.mutable_ctime() = written;
  chmod.mutable_ctime()->set_sec(written.sec() + 3600);
  ASSERT_TRUE(Run([chmod](FsPlanner& p) { return p.Commit(chmod); }).receipt.ok());
  inode = Inode(file);
  EXPECT_EQ(inode.attr.ctime().sec(), written.sec() + 3600);
  EXPECT_EQ(inode.attr.ctime().nsec(), written.nsec());

  // A ctime before the file's own (another client changed it since) keeps the file's.
  v1::FsCommitRequest late = FsCommitOf(file, {ChunkExtent("late")});
  late.set_based_on(inode.winner->id());
  late.mutable_ctime()->set_sec(1'000);
  ASSERT_TRUE(Run([late](FsPlanner& p) { return p.Commit(late); }).receipt.ok());
  EXPECT_EQ(Inode(file).attr.ctime().sec(), written.sec() + 3600);

  // None given: now.
  inode = Inode(file);
  v1::FsCommitRequest plain = FsCommitOf(file, {ChunkExtent("plain")});
  plain.set_based_on(inode.winner->id());
  const int64_t before = FsNow().sec();
  ASSERT_TRUE(Run([plain](FsPlanner& p) { return p.Commit(plain); }).receipt.ok());
  EXPECT_GE(Inode(file).attr.ctime().sec(), before);
  EXPECT_LT(Inode(file).attr.ctime().sec(), written.sec() + 3600);

  v1::FsCommitRequest bad = FsCommitOf(file, {ChunkExtent("bad")});
  bad.mutable_ctime()->set_nsec(1'000'000'000);
  FsReader reader(store_->db(), Names());
  FsPlanner planner(reader, FsNow());
  EXPECT_EQ(FsErrnoOf(planner.Commit(bad).status()), EINVAL);
}

TEST_F(FsPlannerTest, ACommitManyPastItsIntentionsOpsFailsTheRestToBeSentAgain) {
  // Each commit with attributes is two ops: 32 fit in the intention's 64, the rest wait.
  constexpr int kFiles = 40;
  v1::FsCommitManyRequest request;
  std::vector<uint64_t> files;
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(Create(kFsRootId, "f" + std::to_string(i), S_IFREG | 0600));
    v1::FsCommitRequest commit = FsCommitOf(files.back(), {ChunkExtent("x")});
    commit.mutable_attrs()->set_mode(0644);
    *request.add_commits() = std::move(commit);
  }
  ASSERT_TRUE(CheckFsCommitMany(request).ok());
  std::vector<absl::Status> outcomes;
  std::vector<absl::StatusOr<uint64_t>> created;
  Done done = RunCommitMany(request, outcomes, created);
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  EXPECT_EQ(done.plan.payload.ops_size(), static_cast<int>(limits::kMaxFsOpsPerIntention));
  const int fit = static_cast<int>(limits::kMaxFsOpsPerIntention) / 2;
  for (int i = 0; i < kFiles; ++i) {
    if (i < fit) {
      EXPECT_TRUE(outcomes[i].ok()) << i << ": " << outcomes[i];
      EXPECT_EQ(Inode(files[i]).attr.mode(), S_IFREG | 0644u) << i;
    } else {
      EXPECT_TRUE(absl::IsResourceExhausted(outcomes[i])) << i << ": " << outcomes[i];
      EXPECT_EQ(Inode(files[i]).attr.mode(), S_IFREG | 0600u) << i;
    }
  }
}

TEST_F(FsPlannerTest, ACommitManyWithNothingToMakeChangesNothing) {
  v1::FsCommitManyRequest request;
  *request.add_commits() = FsCommitOf(987654321, {ChunkExtent("nobody")});
  *request.add_commits() = FsCommitOf(kFsRootId, {ChunkExtent("the root")});
  std::vector<absl::Status> outcomes(2);
  outcomes[1] = FsError(EINVAL, "failed while preparing");
  std::vector<absl::StatusOr<uint64_t>> created;
  FsReader reader(store_->db(), Names());
  FsPlanner planner(reader, FsNow());
  FsPlan plan = PlanFsCommitMany(planner, request, outcomes, created);
  EXPECT_TRUE(plan.no_change);
  EXPECT_EQ(plan.payload.ops_size(), 0);
  EXPECT_EQ(FsErrnoOf(outcomes[0]), ENOENT);
  EXPECT_EQ(outcomes[1].message(), FsError(EINVAL, "failed while preparing").message())
      << "a commit that failed before planning keeps its error";
}

v1::FsCreateRequest MintedCreate(uint64_t parent, const std::string& name, uint32_t mode,
                                 const std::string& nonce) {
  v1::FsCreateRequest request;
  request.set_parent(parent);
  request.set_name(name);
  request.set_mode(mode);
  request.set_nonce(nonce);
  return request;
}

TEST_F(FsPlannerTest, ACreateWithANonceMakesTheInodeItsClientMinted) {
  const std::string nonce = RandomBytes(kFsNonceBytes);
  const uint64_t minted = FsMintedId(self_.public_key, nonce);
  v1::FsCreateRequest request = MintedCreate(kFsRootId, "minted", S_IFREG | 0640, nonce);
  Done done = Run([request](FsPlanner& p) { return p.Create(request); });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  EXPECT_EQ(done.plan.inode, minted) << "the plan answers with the minted id";
  EXPECT_NE(minted, FsDerivedId(done.receipt->hash, 0));
  auto found = Lookup(kFsRootId, "minted");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->inode, minted) << "the state gave the inode the id its client computed";
  EXPECT_EQ(Inode(minted).attr.mode(), S_IFREG | 0640u);

  FsReader reader(store_->db(), Names());
  FsPlanner planner(reader, FsNow(), self_.public_key);
  // The same create again (its answer lost): answered with the inode, nothing written.
  auto again = planner.Create(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->no_change);
  EXPECT_EQ(again->inode, minted);
  // The nonce under another name: the inode exists already.
  auto elsewhere = planner.Create(MintedCreate(kFsRootId, "elsewhere", S_IFREG | 0640, nonce));
  EXPECT_EQ(FsErrnoOf(elsewhere.status()), EEXIST) << elsewhere.status();
  // The name with another nonce is taken, as for any create.
  auto taken = planner.Create(
      MintedCreate(kFsRootId, "minted", S_IFREG | 0640, RandomBytes(kFsNonceBytes)));
  EXPECT_EQ(FsErrnoOf(taken.status()), EEXIST) << taken.status();
  // A nonce of another length, or a planner that does not know its author.
  auto short_nonce = planner.Create(MintedCreate(kFsRootId, "s", S_IFREG | 0640, "short"));
  EXPECT_EQ(FsErrnoOf(short_nonce.status()), EINVAL) << short_nonce.status();
  FsPlanner anonymous(reader, FsNow());
  auto no_author = anonymous.Create(
      MintedCreate(kFsRootId, "a", S_IFREG | 0640, RandomBytes(kFsNonceBytes)));
  EXPECT_EQ(FsErrnoOf(no_author.status()), EINVAL) << no_author.status();
}

// What a mount that answered its creates itself sends: a directory, a file in it and the
// file's first content, all in one intention, a create whose name was taken meanwhile failing
// alone with the commit of its inode.
TEST_F(FsPlannerTest, ACommitManyCreatesFilesWithTheirFirstContentInOneIntention) {
  ASSERT_NE(Create(kFsRootId, "taken", S_IFREG | 0644), 0u);
  const std::string dir_nonce = RandomBytes(kFsNonceBytes);
  const std::string file_nonce = RandomBytes(kFsNonceBytes);
  const std::string late_nonce = RandomBytes(kFsNonceBytes);
  const uint64_t dir = FsMintedId(self_.public_key, dir_nonce);
  const uint64_t file = FsMintedId(self_.public_key, file_nonce);
  const uint64_t late = FsMintedId(self_.public_key, late_nonce);
  v1::FsCommitManyRequest request;
  *request.add_creates() = MintedCreate(kFsRootId, "d", S_IFDIR | 0755, dir_nonce);
  *request.add_creates() = MintedCreate(dir, "f", S_IFREG | 0644, file_nonce);
  *request.add_creates() = MintedCreate(kFsRootId, "taken", S_IFREG | 0644, late_nonce);
  *request.add_creates() = MintedCreate(dir, "f", S_IFREG | 0644, RandomBytes(kFsNonceBytes));
  *request.add_commits() = FsCommitOf(file, {ChunkExtent("first"), ChunkExtent("content")});
  *request.add_commits() = FsCommitOf(late, {ChunkExtent("lost with its create")});
  ASSERT_TRUE(CheckFsCommitMany(request).ok());
  std::vector<absl::Status> outcomes;
  std::vector<absl::StatusOr<uint64_t>> created;
  Done done = RunCommitMany(request, outcomes, created);
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  ASSERT_EQ(created.size(), 4u);
  ASSERT_TRUE(created[0].ok()) << created[0].status();
  EXPECT_EQ(*created[0], dir);
  ASSERT_TRUE(created[1].ok()) << created[1].status();
  EXPECT_EQ(*created[1], file);
  EXPECT_EQ(FsErrnoOf(created[2].status()), EEXIST) << created[2].status();
  EXPECT_EQ(FsErrnoOf(created[3].status()), EEXIST) << "one name created twice in one call";
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(FsErrnoOf(outcomes[1]), ENOENT) << outcomes[1];

  EXPECT_EQ(Lookup(kFsRootId, "d")->inode, dir);
  EXPECT_EQ(Lookup(dir, "f")->inode, file);
  FsInode inode = Inode(file);
  EXPECT_EQ(inode.size, 12u);
  ASSERT_TRUE(inode.winner.has_value());
  EXPECT_EQ(inode.winner->id().substr(0, done.receipt->hash.size()), done.receipt->hash)
      << "the content is an op of the creates' intention";
  // Two creates, a write, and each directory's times set once.
  int set_attrs = 0;
  for (const auto& op : done.plan.payload.ops()) set_attrs += op.has_set_attr() ? 1 : 0;
  EXPECT_EQ(done.plan.payload.ops_size(), 5);
  EXPECT_EQ(set_attrs, 2);

  // The rules of the call: a create without a nonce, or of another store.
  v1::FsCommitManyRequest plain;
  v1::FsCreateRequest* unminted = plain.add_creates();
  unminted->set_parent(kFsRootId);
  unminted->set_name("plain");
  unminted->set_mode(S_IFREG | 0644);
  EXPECT_EQ(CheckFsCommitMany(plain).code(), absl::StatusCode::kInvalidArgument);
  v1::FsCommitManyRequest foreign;
  foreign.set_store("mine");
  *foreign.add_creates() = MintedCreate(kFsRootId, "x", S_IFREG | 0644, late_nonce);
  foreign.mutable_creates(0)->set_store("another");
  EXPECT_EQ(CheckFsCommitMany(foreign).code(), absl::StatusCode::kInvalidArgument);
}

// What a mount sends for a new file it renamed over an existing one before the create went
// (sed -i, an editor's save): the create unlinks the file it replaces in its own intention.
TEST_F(FsPlannerTest, ACreateThatReplacesAFileUnlinksItInTheSameIntention) {
  const uint64_t old = Create(kFsRootId, "notes.txt", S_IFREG | 0644);
  const uint64_t other = Create(kFsRootId, "other", S_IFREG | 0644);
  const uint64_t dir = Create(kFsRootId, "d", S_IFDIR | 0755);
  ASSERT_NE(old, 0u);
  ASSERT_NE(other, 0u);
  ASSERT_NE(dir, 0u);
  const std::string nonce = RandomBytes(kFsNonceBytes);
  const uint64_t minted = FsMintedId(self_.public_key, nonce);
  v1::FsCommitManyRequest request;
  *request.add_creates() = MintedCreate(kFsRootId, "notes.txt", S_IFREG | 0644, nonce);
  request.mutable_creates(0)->set_replaces(old);
  *request.add_commits() = FsCommitOf(minted, {ChunkExtent("edited")});
  ASSERT_TRUE(CheckFsCommitMany(request).ok());
  std::vector<absl::Status> outcomes;
  std::vector<absl::StatusOr<uint64_t>> created;
  Done done = RunCommitMany(request, outcomes, created);
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  ASSERT_EQ(created.size(), 1u);
  ASSERT_TRUE(created[0].ok()) << created[0].status();
  EXPECT_EQ(*created[0], minted);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(Lookup(kFsRootId, "notes.txt")->inode, minted) << "the new file took the name";
  EXPECT_EQ(Inode(minted).size, 6u);
  EXPECT_EQ(Inode(old).nlink, 0u) << "the file it replaced has no name left";
  EXPECT_TRUE(done.plan.payload.ops(0).has_move()) << "the unlink comes before the create";

  FsReader reader(store_->db(), Names());
  FsPlanner planner(reader, FsNow(), self_.public_key);
  // Sent again (its answer lost): the inode it made, nothing written.
  auto again = planner.Create(request.creates(0));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->no_change);
  // The name naming another inode than the one said: taken, as for any create.
  v1::FsCreateRequest stale = MintedCreate(kFsRootId, "other", S_IFREG | 0644, RandomBytes(kFsNonceBytes));
  stale.set_replaces(old);
  EXPECT_EQ(FsErrnoOf(planner.Create(stale).status()), EEXIST);
  // No directory is replaced, nor replaces a file.
  v1::FsCreateRequest over_dir = MintedCreate(kFsRootId, "d", S_IFREG | 0644, RandomBytes(kFsNonceBytes));
  over_dir.set_replaces(dir);
  EXPECT_EQ(FsErrnoOf(planner.Create(over_dir).status()), EISDIR);
  v1::FsCreateRequest a_dir = MintedCreate(kFsRootId, "other", S_IFDIR | 0755, RandomBytes(kFsNonceBytes));
  a_dir.set_replaces(other);
  EXPECT_EQ(FsErrnoOf(planner.Create(a_dir).status()), EISDIR);
  // The file it would replace is gone already: the name is simply taken.
  v1::FsCreateRequest freed = MintedCreate(kFsRootId, "gone", S_IFREG | 0644, RandomBytes(kFsNonceBytes));
  freed.set_replaces(old);
  auto taken = planner.Create(freed);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_FALSE(taken->no_change);
}

TEST_F(FsPlannerTest, ARenameTellsWhichInodesItsChangeTouched) {
  const uint64_t a = Create(kFsRootId, "a", S_IFREG | 0644);
  const uint64_t b = Create(kFsRootId, "b", S_IFREG | 0644);
  const uint64_t c = Create(kFsRootId, "c", S_IFREG | 0644);
  auto rename = [&](const std::string& from, const std::string& to, uint32_t flags) {
    v1::FsRenameRequest request;
    request.set_parent(kFsRootId);
    request.set_name(from);
    request.set_new_parent(kFsRootId);
    request.set_new_name(to);
    request.set_flags(flags);
    FsReader reader(store_->db(), Names());
    FsPlanner planner(reader, FsNow());
    auto plan = planner.Rename(request);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.ok() ? plan->touched : std::vector<uint64_t>{};
  };
  EXPECT_EQ(rename("a", "free", 0), std::vector<uint64_t>{a}) << "the file moved";
  EXPECT_EQ(rename("a", "b", 0), (std::vector<uint64_t>{b, a})) << "and the one replaced";
  EXPECT_EQ(rename("a", "c", /*RENAME_EXCHANGE=*/2), (std::vector<uint64_t>{a, c})) << "both exchanged";
}

TEST_F(FsPlannerTest, ACommitManysCreatesPastItsIntentionsOpsFailToBeSentAgain) {
  // Creates in one directory: each one op, its directory's times once.
  v1::FsCommitManyRequest request;
  std::vector<std::string> nonces;
  for (size_t i = 0; i < limits::kMaxFsOpsPerIntention; ++i) {
    nonces.push_back(RandomBytes(kFsNonceBytes));
    *request.add_creates() =
        MintedCreate(kFsRootId, "c" + std::to_string(i), S_IFREG | 0644, nonces.back());
  }
  ASSERT_TRUE(CheckFsCommitMany(request).ok());
  std::vector<absl::Status> outcomes;
  std::vector<absl::StatusOr<uint64_t>> created;
  Done done = RunCommitMany(request, outcomes, created);
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  ASSERT_EQ(created.size(), limits::kMaxFsOpsPerIntention);
  size_t made = 0;
  for (size_t i = 0; i < created.size(); ++i) {
    if (created[i].ok()) {
      ++made;
      EXPECT_EQ(Lookup(kFsRootId, "c" + std::to_string(i))->inode,
                FsMintedId(self_.public_key, nonces[i]));
    } else {
      EXPECT_TRUE(absl::IsResourceExhausted(created[i].status())) << created[i].status();
      EXPECT_FALSE(Lookup(kFsRootId, "c" + std::to_string(i)).has_value()) << i;
    }
  }
  EXPECT_EQ(made, limits::kMaxFsOpsPerIntention - 2) << "every create counts two ops ahead";
  EXPECT_EQ(static_cast<size_t>(done.plan.payload.ops_size()), made + 1);
}

v1::FsRemoveRequest RemovalOf(uint64_t parent, const std::string& name) {
  v1::FsRemoveRequest removal;
  removal.set_parent(parent);
  removal.set_name(name);
  return removal;
}

TEST_F(FsPlannerTest, ARemoveManyInOneDirectoryTouchesItOnceAndFailsOnlyTheBadOnes) {
  uint64_t dir = Create(kFsRootId, "d", S_IFDIR | 0755);
  v1::FsRemoveManyRequest request;
  for (size_t i = 0; i < kMaxFsRemovesPerCall - 1; ++i) {
    ASSERT_NE(Create(dir, "f" + std::to_string(i), S_IFREG | 0644), 0u);
    *request.add_removals() = RemovalOf(dir, "f" + std::to_string(i));
  }
  *request.add_removals() = RemovalOf(dir, "never-made");
  ASSERT_TRUE(CheckFsRemoveMany(request).ok());
  std::vector<absl::Status> outcomes;
  Done done = Run([&request, &outcomes](FsPlanner& p) -> absl::StatusOr<FsPlan> {
    return PlanFsRemoveMany(p, request, outcomes);
  });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  ASSERT_EQ(outcomes.size(), kMaxFsRemovesPerCall);
  for (size_t i = 0; i + 1 < outcomes.size(); ++i) EXPECT_TRUE(outcomes[i].ok()) << outcomes[i];
  EXPECT_EQ(FsErrnoOf(outcomes.back()), ENOENT) << outcomes.back();
  // One move per name, and one touch of the directory for all of them.
  EXPECT_EQ(static_cast<size_t>(done.plan.payload.ops_size()), kMaxFsRemovesPerCall);
  FsReader reader(store_->db(), Names());
  for (size_t i = 0; i + 1 < kMaxFsRemovesPerCall; ++i) {
    auto found = reader.Lookup(dir, "f" + std::to_string(i));
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->has_value()) << i;
  }
}

TEST_F(FsPlannerTest, ARemovalOfAnInodeRemovesTheNameOnlyWhileItNamesThatInode) {
  uint64_t first = Create(kFsRootId, "x", S_IFREG | 0644);
  // Another client puts a new file under the name before the removal is sent.
  uint64_t second = Create(kFsRootId, "y", S_IFREG | 0644);
  v1::FsRenameRequest rename = RenameOf(kFsRootId, "y", kFsRootId, "x");
  ASSERT_TRUE(Run([rename](FsPlanner& p) { return p.Rename(rename); }).receipt.ok());
  v1::FsRemoveRequest stale = RemovalOf(kFsRootId, "x");
  stale.set_ino(first);
  Done refused = Run([stale](FsPlanner& p) { return p.Remove(stale); });
  ASSERT_FALSE(refused.receipt.ok());
  EXPECT_EQ(FsErrnoOf(refused.receipt.status()), ENOENT) << refused.receipt.status();
  auto kept = Lookup(kFsRootId, "x");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->inode, second);
  v1::FsRemoveRequest current = RemovalOf(kFsRootId, "x");
  current.set_ino(second);
  ASSERT_TRUE(Run([current](FsPlanner& p) { return p.Remove(current); }).receipt.ok());
  EXPECT_FALSE(Lookup(kFsRootId, "x").has_value());
}

TEST_F(FsPlannerTest, ARemoveManyThatWouldOverflowItsIntentionFailsTheRestToBeSentAgain) {
  // Each removal here needs three ops: the move, its directory's touch and the ctime of the
  // file's other name.
  v1::FsRemoveManyRequest request;
  for (size_t i = 0; i < kMaxFsRemovesPerCall; ++i) {
    uint64_t dir = Create(kFsRootId, "d" + std::to_string(i), S_IFDIR | 0755);
    uint64_t file = Create(kFsRootId, "f" + std::to_string(i), S_IFREG | 0644);
    v1::FsLinkRequest link;
    link.set_ino(file);
    link.set_new_parent(dir);
    link.set_new_name("other");
    ASSERT_TRUE(Run([link](FsPlanner& p) { return p.Link(link); }).receipt.ok());
    *request.add_removals() = RemovalOf(dir, "other");
  }
  std::vector<absl::Status> outcomes;
  Done done = Run([&request, &outcomes](FsPlanner& p) -> absl::StatusOr<FsPlan> {
    return PlanFsRemoveMany(p, request, outcomes);
  });
  ASSERT_TRUE(done.receipt.ok()) << done.receipt.status();
  const size_t fit = limits::kMaxFsOpsPerIntention / 3;
  EXPECT_EQ(static_cast<size_t>(done.plan.payload.ops_size()), 3 * fit);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (i < fit) {
      EXPECT_TRUE(outcomes[i].ok()) << i << ": " << outcomes[i];
    } else {
      EXPECT_EQ(outcomes[i].code(), absl::StatusCode::kResourceExhausted) << i << ": " << outcomes[i];
    }
  }
}

TEST(FsPlannerHelpers, RemoveManyRequestsAreBounded) {
  auto code = [](const v1::FsRemoveManyRequest& r) { return CheckFsRemoveMany(r).code(); };
  EXPECT_EQ(code(v1::FsRemoveManyRequest()), absl::StatusCode::kInvalidArgument);
  v1::FsRemoveManyRequest request;
  request.set_store("s");
  for (size_t i = 0; i < kMaxFsRemovesPerCall; ++i) {
    *request.add_removals() = RemovalOf(1, "n" + std::to_string(i));
  }
  EXPECT_TRUE(CheckFsRemoveMany(request).ok());
  v1::FsRemoveManyRequest too_many = request;
  *too_many.add_removals() = RemovalOf(1, "one more");
  EXPECT_EQ(code(too_many), absl::StatusCode::kResourceExhausted);
  v1::FsRemoveManyRequest twice = request;
  *twice.mutable_removals(3) = RemovalOf(1, "n2");
  EXPECT_EQ(code(twice), absl::StatusCode::kInvalidArgument);
  v1::FsRemoveManyRequest same_name_elsewhere = request;
  *same_name_elsewhere.mutable_removals(3) = RemovalOf(2, "n2");
  EXPECT_TRUE(CheckFsRemoveMany(same_name_elsewhere).ok());
  v1::FsRemoveManyRequest directory = request;
  directory.mutable_removals(0)->set_dir(true);
  EXPECT_EQ(code(directory), absl::StatusCode::kInvalidArgument);
  v1::FsRemoveManyRequest elsewhere = request;
  elsewhere.mutable_removals(0)->set_store("other");
  EXPECT_EQ(code(elsewhere), absl::StatusCode::kInvalidArgument);
  elsewhere.mutable_removals(0)->set_store("s");
  EXPECT_TRUE(CheckFsRemoveMany(elsewhere).ok());
}

TEST_F(FsPlannerTest, PreparingACommitManyChecksEachCommitsChunksAlone) {
  TempDir dir;
  auto opened = ChunkStore::Open(dir.path() + "/chunks");
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChunkStore* chunks = opened->get();
  v1::FsCommitManyRequest request;
  v1::FsCommitRequest good = FsCommitOf(1, {ChunkExtent("carried")});
  v1::FsChunk* carried = good.add_chunks();
  carried->set_hash(Blake2b256("carried"));
  carried->set_data("carried");
  v1::FsCommitRequest forged = FsCommitOf(2, {ChunkExtent("claimed")});
  v1::FsChunk* wrong = forged.add_chunks();
  wrong->set_hash(Blake2b256("claimed"));
  wrong->set_data("something else");
  v1::FsCommitRequest missing = FsCommitOf(3, {ChunkExtent("never uploaded")});
  v1::FsCommitRequest bad_size = FsCommitOf(4, {ChunkExtent("carried")});
  bad_size.set_size(99);
  for (auto* c : {&good, &forged, &missing, &bad_size}) *request.add_commits() = *c;
  std::vector<absl::Status> outcomes = FsPrepareCommits(*chunks, request);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(FsErrnoOf(outcomes[1]), EINVAL) << outcomes[1];
  EXPECT_NE(outcomes[1].message().find("does not match its hash"), absl::string_view::npos);
  EXPECT_EQ(FsErrnoOf(outcomes[2]), EINVAL) << outcomes[2];
  EXPECT_EQ(FsErrnoOf(outcomes[3]), EINVAL) << outcomes[3];
  auto held = chunks->Missing({Blake2b256("carried"), Blake2b256("claimed")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, (std::vector<std::string>{Blake2b256("claimed")}))
      << "the good commit's chunk is stored, the forged one is not";
}

TEST(FsPlannerHelpers, CommitManyRequestsAreBounded) {
  auto code = [](const v1::FsCommitManyRequest& r) { return CheckFsCommitMany(r).code(); };
  v1::FsCommitManyRequest request;
  request.set_store("drive");
  EXPECT_EQ(code(request), absl::StatusCode::kInvalidArgument) << "no commits";

  for (uint64_t ino = 1; ino <= kMaxFsCommitsPerCall; ++ino) {
    *request.add_commits() = FsCommitOf(ino, {});
  }
  EXPECT_TRUE(CheckFsCommitMany(request).ok());
  *request.add_commits() = FsCommitOf(1000, {});
  EXPECT_EQ(code(request), absl::StatusCode::kResourceExhausted) << "one commit too many";

  v1::FsCommitManyRequest twice;
  *twice.add_commits() = FsCommitOf(7, {});
  *twice.add_commits() = FsCommitOf(7, {});
  absl::Status status = CheckFsCommitMany(twice);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("inode 7"), absl::string_view::npos) << status;

  v1::FsCommitManyRequest elsewhere;
  elsewhere.set_store("drive");
  *elsewhere.add_commits() = FsCommitOf(7, {});
  elsewhere.mutable_commits(0)->set_store("drive");
  EXPECT_TRUE(CheckFsCommitMany(elsewhere).ok());
  elsewhere.mutable_commits(0)->set_store("other");
  EXPECT_EQ(code(elsewhere), absl::StatusCode::kInvalidArgument);

  // Bytes of chunks: each commit within Commit's limit, all of them beyond the call's.
  v1::FsCommitManyRequest heavy;
  const std::string chunk(limits::kFsChunkMaxBytes, 'x');
  const size_t commits = limits::kMaxFsPutChunksBytes / limits::kFsChunkMaxBytes + 1;
  for (uint64_t ino = 1; ino <= commits; ++ino) {
    v1::FsChunk* c = heavy.add_commits()->add_chunks();
    heavy.mutable_commits(static_cast<int>(ino - 1))->set_ino(ino);
    c->set_data(chunk);
  }
  EXPECT_EQ(code(heavy), absl::StatusCode::kResourceExhausted) << "too many bytes";

  v1::FsCommitManyRequest long_lists;
  for (uint64_t ino = 1; ino <= 2; ++ino) {
    v1::FsCommitRequest* commit = long_lists.add_commits();
    commit->set_ino(ino);
    for (size_t i = 0; i <= limits::kMaxFsExtentsPerVersion / 2; ++i) commit->add_extents();
  }
  EXPECT_EQ(code(long_lists), absl::StatusCode::kResourceExhausted) << "too many extents";
}

TEST(FsPlannerHelpers, NamesAreChecked) {
  EXPECT_TRUE(CheckFsCallName("ok").ok());
  EXPECT_EQ(FsErrnoOf(CheckFsCallName("")), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsCallName(".")), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsCallName("..")), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsCallName("a/b")), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsCallName(std::string("a\0b", 3))), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsCallName(std::string(256, 'x'))), ENAMETOOLONG);
  EXPECT_TRUE(CheckFsCallName(std::string(255, 'x')).ok());
}

TEST(FsPlannerHelpers, ResizingCutsAChunkOrAddsAHole) {
  google::protobuf::RepeatedPtrField<v1::FsExtent> extents;
  auto* a = extents.Add();
  a->set_hash(std::string(32, 'a'));
  a->set_length(100);
  auto* hole = extents.Add();
  hole->set_length(50);
  auto* b = extents.Add();
  b->set_hash(std::string(32, 'b'));
  b->set_length(100);

  auto needed = FsCutNeeded(extents, 170);
  ASSERT_TRUE(needed.has_value());
  EXPECT_EQ(needed->first, std::string(32, 'b'));
  EXPECT_EQ(needed->second, 20u);
  EXPECT_FALSE(FsCutNeeded(extents, 120).has_value());  // inside the hole
  EXPECT_FALSE(FsCutNeeded(extents, 150).has_value());  // on a boundary

  EXPECT_EQ(FsErrnoOf(FsResizeExtents(extents, 170, {}).status()), EAGAIN);
  FsCutChunks cut{{{std::string(32, 'b'), 20}, std::string(32, 'c')}};
  auto cut_to = FsResizeExtents(extents, 170, cut);
  ASSERT_TRUE(cut_to.ok());
  ASSERT_EQ(cut_to->size(), 3u);
  EXPECT_EQ((*cut_to)[2].hash(), std::string(32, 'c'));
  EXPECT_EQ((*cut_to)[2].length(), 20u);

  auto grown = FsResizeExtents(extents, 400, {});
  ASSERT_TRUE(grown.ok());
  ASSERT_EQ(grown->size(), 4u);
  EXPECT_TRUE((*grown)[3].hash().empty());
  EXPECT_EQ((*grown)[3].length(), 150u);

  auto in_hole = FsResizeExtents(extents, 120, {});
  ASSERT_TRUE(in_hole.ok());
  ASSERT_EQ(in_hole->size(), 2u);
  EXPECT_EQ((*in_hole)[1].length(), 20u);
}

TEST(FsPlannerHelpers, ExtentsMustAddUpWithinTheLimits) {
  google::protobuf::RepeatedPtrField<v1::FsExtent> extents;
  auto* a = extents.Add();
  a->set_hash(std::string(32, 'a'));
  a->set_length(100);
  EXPECT_TRUE(CheckFsExtents(extents, 100).ok());
  EXPECT_EQ(FsErrnoOf(CheckFsExtents(extents, 99)), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsExtents(extents, 101)), EINVAL);
  a->set_hash("short");
  EXPECT_EQ(FsErrnoOf(CheckFsExtents(extents, 100)), EINVAL);
  a->set_hash(std::string(32, 'a'));
  a->set_length(limits::kFsChunkMaxBytes + 1);
  EXPECT_EQ(FsErrnoOf(CheckFsExtents(extents, limits::kFsChunkMaxBytes + 1)), EINVAL);
  EXPECT_EQ(FsErrnoOf(CheckFsExtents({}, limits::kMaxFsFileBytes + 1)), EFBIG);
}

TEST(FsChanges, AChangeNamesCreatedInodesAndPlaces) {
  v1::FsPayload payload;
  auto* create = payload.add_ops()->mutable_create();
  create->set_parent(kFsRootId);
  create->set_name("new");
  auto* write = payload.add_ops()->mutable_write();
  write->set_inode(FsOpRef(0));
  DecodedIntention intention;
  intention.hash = std::string(32, 'h');
  intention.body.set_op_type(std::string(kOpFs));
  intention.body.set_payload(payload.SerializeAsString());
  intention.body.set_author("me");
  v1::FsChange change;
  ASSERT_TRUE(FsChangeOf(intention, "me", &change));
  uint64_t created = FsDerivedId(intention.hash, 0);
  EXPECT_EQ(change.inodes_size(), 2);  // the root and the new inode, once
  bool has_created = false;
  for (uint64_t ino : change.inodes()) has_created |= ino == created;
  EXPECT_TRUE(has_created);
  ASSERT_EQ(change.names_size(), 1);
  EXPECT_EQ(change.names(0).name(), "new");
  EXPECT_TRUE(change.local());
  intention.body.set_op_type("kv.v1");
  EXPECT_FALSE(FsChangeOf(intention, "me", &change));
}

}  // namespace
}  // namespace lattice::kernel::testing
