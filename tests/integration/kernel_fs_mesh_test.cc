// The Fs service across two kernels in one mesh: what one node creates, renames, sets and
// commits is what the other shows.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "harness/process.h"
#include "integration/replication_support.h"
#include "lattice/client/fs_client.h"
#include "lattice/common/crypto.h"
#include "lattice/common/fs_errno.h"

namespace lattice::testing {
namespace {

constexpr uint64_t kRoot = 1;

TEST(KernelFsMesh, WhatOneNodeWritesTheOtherShows) {
  auto cluster = StartMesh(2);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "drive", {0, 1}, "fs");
  ASSERT_TRUE(store.ok()) << store.status();
  auto a_client = cluster->Client(0);
  auto b_client = cluster->Client(1);
  ASSERT_TRUE(a_client.ok() && b_client.ok());
  client::FsClient a(**a_client, "drive");
  client::FsClient b(**b_client, "drive");

  v1::FsCreateRequest mkdir;
  mkdir.set_parent(kRoot);
  mkdir.set_name("shared");
  mkdir.set_mode(S_IFDIR | 0755);
  auto dir = a.Create(mkdir);
  ASSERT_TRUE(dir.ok()) << dir.status();
  v1::FsCreateRequest create;
  create.set_parent(dir->stat().ino());
  create.set_name("report.txt");
  create.set_mode(S_IFREG | 0640);
  auto file = a.Create(create);
  ASSERT_TRUE(file.ok()) << file.status();

  std::string data = "written on node A";
  v1::FsPutChunksRequest put;
  auto* chunk = put.add_chunks();
  chunk->set_hash(Blake2b256(data));
  chunk->set_data(data);
  ASSERT_TRUE(a.PutChunks(put).ok());
  v1::FsCommitRequest commit;
  commit.set_ino(file->stat().ino());
  auto* extent = commit.add_extents();
  extent->set_hash(chunk->hash());
  extent->set_length(data.size());
  commit.set_size(data.size());
  auto committed = a.Commit(commit);
  ASSERT_TRUE(committed.ok()) << committed.status();

  // The same ids on both nodes: B finds the file under the directory A made.
  ASSERT_TRUE(WaitFor([&] {
    auto found = b.Lookup(dir->stat().ino(), "report.txt");
    return found.ok() && found->stat().version() == committed->version();
  })) << "node B never showed A's file";
  auto on_b = b.Lookup(dir->stat().ino(), "report.txt");
  ASSERT_TRUE(on_b.ok());
  EXPECT_EQ(on_b->stat().ino(), file->stat().ino());
  EXPECT_EQ(on_b->stat().size(), data.size());
  EXPECT_EQ(on_b->stat().attr().mode() & 07777, 0640u);
  v1::FsLayoutRequest layout;
  layout.set_ino(file->stat().ino());
  auto layout_b = b.Layout(layout);
  ASSERT_TRUE(layout_b.ok()) << layout_b.status();
  ASSERT_EQ(layout_b->extents_size(), 1);
  EXPECT_EQ(layout_b->extents(0).hash(), chunk->hash());
  // B fetches the chunk from A and reads the content.
  v1::FsReadRequest read;
  read.set_ino(file->stat().ino());
  read.set_length(1024);
  ASSERT_TRUE(WaitFor([&] {
    auto got = b.Read(read);
    return got.ok() && got->data() == data;
  })) << "node B never read A's content";

  // A rename on B shows on A.
  v1::FsRenameRequest rename;
  rename.set_parent(dir->stat().ino());
  rename.set_name("report.txt");
  rename.set_new_parent(kRoot);
  rename.set_new_name("final.txt");
  ASSERT_TRUE(b.Rename(rename).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto moved = a.Lookup(kRoot, "final.txt");
    return moved.ok() && moved->stat().ino() == file->stat().ino();
  })) << "node A never showed B's rename";
  EXPECT_EQ(FsErrnoOf(a.Lookup(dir->stat().ino(), "report.txt").status()), ENOENT);
}

// B edits one chunk of a file A wrote: B's kernel commits the edit as splices of A's version
// (citing A's intention), A resolves them into the whole version, fetches the one new chunk
// and reads the edited content.
TEST(KernelFsMesh, AnEditCommittedAsADeltaShowsWholeOnTheOtherNode) {
  auto cluster = StartMesh(2);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "drive", {0, 1}, "fs");
  ASSERT_TRUE(store.ok()) << store.status();
  auto a_client = cluster->Client(0);
  auto b_client = cluster->Client(1);
  ASSERT_TRUE(a_client.ok() && b_client.ok());
  client::FsClient a(**a_client, "drive");
  client::FsClient b(**b_client, "drive");

  v1::FsCreateRequest create;
  create.set_parent(kRoot);
  create.set_name("big.bin");
  create.set_mode(S_IFREG | 0644);
  auto file = a.Create(create);
  ASSERT_TRUE(file.ok()) << file.status();
  const uint64_t ino = file->stat().ino();

  auto put = [](client::FsClient& on, const std::vector<std::string>& chunks) {
    for (size_t at = 0; at < chunks.size(); at += 64) {
      v1::FsPutChunksRequest request;
      for (size_t i = at; i < chunks.size() && i < at + 64; ++i) {
        auto* chunk = request.add_chunks();
        chunk->set_hash(Blake2b256(chunks[i]));
        chunk->set_data(chunks[i]);
      }
      auto s = on.PutChunks(request);
      if (!s.ok()) return s.status();
    }
    return absl::OkStatus();
  };
  auto commit = [&](client::FsClient& on, const std::vector<std::string>& chunks,
                    const std::string& based_on) {
    v1::FsCommitRequest request;
    request.set_ino(ino);
    uint64_t size = 0;
    for (const auto& c : chunks) {
      auto* extent = request.add_extents();
      extent->set_hash(Blake2b256(c));
      extent->set_length(c.size());
      size += c.size();
    }
    request.set_size(size);
    request.set_based_on(based_on);
    return on.Commit(request);
  };
  std::vector<std::string> chunks;
  for (int i = 0; i < 200; ++i) chunks.push_back("chunk " + std::to_string(i) + " of A's file\n");
  ASSERT_TRUE(put(a, chunks).ok());
  auto first = commit(a, chunks, "");
  ASSERT_TRUE(first.ok()) << first.status();

  ASSERT_TRUE(WaitFor([&] {
    auto found = b.Lookup(kRoot, "big.bin");
    return found.ok() && found->stat().version() == first->version();
  })) << "node B never showed A's file";
  // A commit cites only chunks its node holds: B fetches A's first.
  std::string original;
  for (const auto& c : chunks) original += c;
  v1::FsReadRequest read;
  read.set_ino(ino);
  read.set_length(static_cast<uint32_t>(original.size()));
  ASSERT_TRUE(WaitFor([&] {
    auto got = b.Read(read);
    return got.ok() && got->data() == original;
  })) << "node B never read A's content";
  // Something else written on B after it: A's intention is not B's latest.
  create.set_name("other");
  ASSERT_TRUE(b.Create(create).ok());

  std::vector<std::string> edited = chunks;
  edited[100] = "edited on node B\n";
  ASSERT_TRUE(put(b, {edited[100]}).ok());
  auto second = commit(b, edited, first->version());
  ASSERT_TRUE(second.ok()) << second.status();

  ASSERT_TRUE(WaitFor([&] {
    auto found = a.Lookup(kRoot, "big.bin");
    return found.ok() && found->stat().version() == second->version();
  })) << "node A never showed B's edit";
  v1::FsLayoutRequest layout;
  layout.set_ino(ino);
  auto on_a = a.Layout(layout);
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  ASSERT_EQ(on_a->extents_size(), 200);
  EXPECT_EQ(on_a->extents(100).hash(), Blake2b256(edited[100]));
  EXPECT_EQ(on_a->extents(199).hash(), Blake2b256(chunks[199]));
  std::string expected;
  for (const auto& c : edited) expected += c;
  read.set_length(static_cast<uint32_t>(expected.size()));
  ASSERT_TRUE(WaitFor([&] {
    auto got = a.Read(read);
    return got.ok() && got->data() == expected;
  })) << "node A never read B's edit";
}

}  // namespace
}  // namespace lattice::testing
