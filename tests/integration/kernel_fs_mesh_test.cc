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

}  // namespace
}  // namespace lattice::testing
