// The creates lattice-fuse answers itself (src/creates.h): pending until taken, in flight
// until done, taken in the order they were answered, and a batch's own creates not taken
// while another sender has them in flight.
#include "src/creates.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <vector>

namespace lattice::fuse {
namespace {

v1::FsCreateRequest CreateOf(const std::string& name) {
  v1::FsCreateRequest request;
  request.set_parent(1);
  request.set_name(name);
  request.set_mode(S_IFREG | 0644);
  return request;
}

std::vector<std::string> NamesOf(const std::vector<PendingCreate>& creates) {
  std::vector<std::string> names;
  for (const auto& create : creates) names.push_back(create.request.name());
  return names;
}

TEST(PendingCreates, PendingUntilTakenAndDoneInTheOrderAnswered) {
  PendingCreates creates;
  EXPECT_TRUE(creates.Quiet());
  EXPECT_EQ(creates.Add(30, CreateOf("c")), 1u);
  EXPECT_EQ(creates.Add(10, CreateOf("a")), 2u);
  EXPECT_EQ(creates.Add(20, CreateOf("b")), 3u);
  EXPECT_FALSE(creates.Quiet());
  EXPECT_TRUE(creates.Pending(10));
  EXPECT_FALSE(creates.Pending(11));

  std::vector<PendingCreate> some = creates.TakeFor({20, 30, 99});
  EXPECT_EQ(NamesOf(some), (std::vector<std::string>{"c", "b"})) << "as answered";
  EXPECT_TRUE(creates.Pending(20)) << "in flight is still pending";
  creates.Done({20, 30});
  EXPECT_FALSE(creates.Pending(20));
  std::vector<PendingCreate> rest = creates.TakeAll();
  EXPECT_EQ(NamesOf(rest), std::vector<std::string>{"a"});
  EXPECT_FALSE(creates.Quiet());
  creates.Done({10});
  EXPECT_TRUE(creates.TakeAll().empty());
  EXPECT_TRUE(creates.Quiet());
  creates.AwaitInFlight();  // nothing in flight: returns at once
}

TEST(PendingCreates, AFileRenamedBeforeItsCreateWentIsCreatedUnderItsNewName) {
  PendingCreates creates;
  creates.Add(5, CreateOf("tmp.x1"));
  creates.Add(6, CreateOf("tmp.x2"));
  EXPECT_TRUE(creates.Rename(1, "tmp.x1", 7, "final"));
  EXPECT_FALSE(creates.Rename(1, "tmp.x1", 7, "again")) << "no create waits under that name";
  EXPECT_FALSE(creates.Rename(2, "tmp.x2", 7, "other")) << "another directory's name";
  v1::FsCreateRequest dir = CreateOf("dir");
  dir.set_mode(S_IFDIR | 0755);
  creates.Add(8, dir);
  EXPECT_FALSE(creates.Rename(1, "dir", 7, "moved")) << "a directory moved: the kernel follows it";
  std::vector<PendingCreate> sent = creates.TakeFor({6});
  EXPECT_FALSE(creates.Rename(1, "tmp.x2", 7, "late")) << "taken by a sender: the kernel renames";
  creates.Done({6});
  std::vector<PendingCreate> rest = creates.TakeAll();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].ino, 5u);
  EXPECT_EQ(rest[0].request.parent(), 7u);
  EXPECT_EQ(rest[0].request.name(), "final");
  creates.Done({5, 8});
}

TEST(PendingCreates, AFileRenamedOverAnotherReplacesItAndMovesNoFurther) {
  PendingCreates creates;
  creates.Add(5, CreateOf(".sed1"));
  EXPECT_TRUE(creates.Rename(1, ".sed1", 1, "notes", /*replaces=*/42));
  EXPECT_FALSE(creates.Rename(1, "notes", 1, "elsewhere"))
      << "moved on, it would leave the file it replaces in place: the kernel renames";
  std::vector<PendingCreate> sent = creates.TakeAll();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].request.name(), "notes");
  EXPECT_EQ(sent[0].request.replaces(), 42u);
  creates.Done({5});
}

TEST(PendingCreates, ANameIsAffectedByTheCreatesOfItOrOfItsDirectory) {
  PendingCreates creates;
  creates.Add(5, CreateOf("new"));
  v1::FsCreateRequest dir = CreateOf("dir");
  dir.set_mode(S_IFDIR | 0755);
  creates.Add(8, dir);
  EXPECT_TRUE(creates.Affects(1, "new"));
  EXPECT_TRUE(creates.Affects(8, "anything")) << "a name in a directory not made yet";
  EXPECT_FALSE(creates.Affects(1, "old")) << "another name: the kernel's answer stands";
  EXPECT_FALSE(creates.Affects(2, "new"));
  std::vector<PendingCreate> sent = creates.TakeFor({5});
  EXPECT_TRUE(creates.Affects(1, "new")) << "in flight: the kernel may not have it yet";
  creates.Done({5});
  EXPECT_FALSE(creates.Affects(1, "new"));
  creates.TakeAll();
  EXPECT_TRUE(creates.Affects(8, "x")) << "a directory in flight";
  creates.Done({8});
  EXPECT_FALSE(creates.Affects(8, "x"));
}

TEST(PendingCreates, AnInodeIsAffectedByItsCreateThoseInItAndOneReplacingIt) {
  PendingCreates creates;
  creates.Add(5, CreateOf(".sed"));
  EXPECT_TRUE(creates.AffectsInode(5)) << "its own create";
  EXPECT_TRUE(creates.AffectsInode(1)) << "the directory it is made in";
  EXPECT_FALSE(creates.AffectsInode(42));
  ASSERT_TRUE(creates.Rename(1, ".sed", 1, "notes", /*replaces=*/42));
  EXPECT_TRUE(creates.AffectsInode(42)) << "the file it replaces loses a link";
  std::vector<PendingCreate> sent = creates.TakeAll();
  EXPECT_TRUE(creates.AffectsInode(42)) << "in flight too";
  EXPECT_TRUE(creates.AffectsInode(1));
  creates.Done({5});
  EXPECT_FALSE(creates.AffectsInode(42));
  EXPECT_FALSE(creates.AffectsInode(1));
  EXPECT_FALSE(creates.AffectsInode(5));
}

TEST(PendingCreates, AFilesCreateIsTakenWithThoseOfTheDirectoriesItIsIn) {
  PendingCreates creates;
  v1::FsCreateRequest dir = CreateOf("d");
  creates.Add(100, dir);                   // d in the root
  v1::FsCreateRequest sub = CreateOf("e");
  sub.set_parent(100);
  creates.Add(200, sub);                   // d/e
  creates.Add(7, CreateOf("unrelated"));
  v1::FsCreateRequest file = CreateOf("f");
  file.set_parent(200);
  creates.Add(300, file);                  // d/e/f
  std::vector<PendingCreate> taken = creates.TakeFor({300});
  EXPECT_EQ(NamesOf(taken), (std::vector<std::string>{"d", "e", "f"}))
      << "the directories first, in the order they were made";
  EXPECT_TRUE(creates.Pending(7));
  creates.Done({100, 200, 300});

  // A file whose directory's create another sender has in flight waits for it.
  creates.Add(400, dir);
  v1::FsCreateRequest inside = CreateOf("g");
  inside.set_parent(400);
  std::vector<PendingCreate> others = creates.TakeAll();  // 7 and 400: in flight
  ASSERT_EQ(others.size(), 2u);
  creates.Add(500, inside);
  auto batch = std::async(std::launch::async, [&] { return creates.TakeFor({500}).size(); });
  EXPECT_EQ(batch.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "the file's create must not overtake its directory's";
  creates.Done({7, 400});
  EXPECT_EQ(batch.get(), 1u) << "then it takes the file's create";
  creates.Done({500});
  EXPECT_TRUE(creates.Quiet());
}

TEST(PendingCreates, ABatchWaitsForItsFilesCreatesInFlightElsewhere) {
  PendingCreates creates;
  creates.Add(1, CreateOf("one"));
  std::vector<PendingCreate> sent = creates.TakeAll();  // another sender has it
  ASSERT_EQ(sent.size(), 1u);
  std::atomic<bool> taken{false};
  auto batch = std::async(std::launch::async, [&] {
    auto mine = creates.TakeFor({1});
    taken = true;
    return mine.size();
  });
  auto in_flight = std::async(std::launch::async, [&] { creates.AwaitInFlight(); });
  EXPECT_EQ(batch.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "a commit of the file must not overtake its create";
  EXPECT_EQ(in_flight.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_FALSE(taken);
  creates.Done({1});
  EXPECT_EQ(batch.get(), 0u) << "sent already: nothing left to take";
  in_flight.get();
  EXPECT_TRUE(creates.Quiet());
}

}  // namespace
}  // namespace lattice::fuse
