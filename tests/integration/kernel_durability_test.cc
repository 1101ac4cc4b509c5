// Durability: clients write concurrently while the kernel is killed with SIGKILL at random
// moments; after each restart every acknowledged write is readable and the stored
// intentions replay to the same state. Writes acknowledged once applied are readable at once
// and durable once a sync barrier has returned.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "harness/kernel_process.h"

namespace lattice::testing {
namespace {

TEST(KernelDurability, AcknowledgedWritesSurviveTwentySigkills) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  {
    auto admin = kernel.Connect();
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)->CreateStore("d", "kv").ok());
  }
  std::mt19937 rng(7);
  std::map<std::string, std::string> acknowledged;
  constexpr int kWriters = 4;
  for (int round = 0; round < 20; ++round) {
    std::mutex mutex;
    std::atomic<int> acked_this_round{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto client = kernel.Connect();
        if (!client.ok()) return;
        for (int i = 0; !stop; ++i) {
          std::string key = "r" + std::to_string(round) + "/w" + std::to_string(w) + "/" + std::to_string(i);
          std::string value = "value-" + std::to_string(i * 7919 + w);
          auto result = (*client)->Put("d", key, value);
          if (!result.ok()) return;  // the kernel died under us: this write is not acknowledged
          std::lock_guard lock(mutex);
          acknowledged[key] = value;
          ++acked_this_round;
        }
      });
    }
    // Kill at a random point of the write stream, counted in acknowledged writes.
    int kill_after = 5 + static_cast<int>(rng() % 200);
    ASSERT_TRUE(WaitFor([&] { return acked_this_round >= kill_after; }, std::chrono::seconds(60)));
    kernel.Kill();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(kernel.Start().ok()) << "round " << round;

    auto client = kernel.Connect();
    ASSERT_TRUE(client.ok());
    for (const auto& [key, value] : acknowledged) {
      auto got = (*client)->Get("d", key);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(got->found()) << "round " << round << ": acknowledged write " << key << " lost";
      ASSERT_EQ(got->value(), value);
    }
    auto verify = (*client)->VerifyStore("d");
    ASSERT_TRUE(verify.ok());
    ASSERT_TRUE(verify->ok()) << (verify->problems_size() ? verify->problems(0) : "");
  }
  EXPECT_GT(acknowledged.size(), 20u * 5);
  CommandResult ctl = kernel.Ctl({"debug", "verify", "d"});
  EXPECT_EQ(ctl.exit_code, 0) << ctl.out << ctl.err;
}

// The sync barrier reports a cursor that covers every write acknowledged before it, and what
// it reported survives SIGKILL; a token that may only read cannot call it.
TEST(KernelDurability, SyncCoversEveryEarlierWriteAndSurvivesSigkill) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  uint64_t last_cursor = 0;
  {
    auto admin = kernel.Connect();
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)->CreateStore("d", "kv").ok());
    for (int i = 0; i < 50; ++i) {
      auto put = (*admin)->Put("d", "k" + std::to_string(i), "v" + std::to_string(i));
      ASSERT_TRUE(put.ok()) << put.status();
      last_cursor = put->cursor();
    }
    auto synced = (*admin)->SyncKv("d");
    ASSERT_TRUE(synced.ok()) << synced.status();
    EXPECT_GE(synced->cursor(), last_cursor);

    v1::CreateTokenRequest request;
    request.set_name("reader");
    request.add_stores("d");
    request.add_rights("read");
    auto token = (*admin)->CreateToken(request);
    ASSERT_TRUE(token.ok()) << token.status();
    auto reader = kernel.Connect(token->token());
    ASSERT_TRUE(reader.ok());
    auto refused = (*reader)->SyncKv("d");
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
    EXPECT_EQ((*admin)->SyncKv("no-such-store").status().code(), absl::StatusCode::kNotFound);
  }
  kernel.Kill();
  ASSERT_TRUE(kernel.Start().ok());
  auto client = kernel.Connect();
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 50; ++i) {
    auto got = (*client)->Get("d", "k" + std::to_string(i));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->found()) << "k" << i << " was acknowledged before the sync";
  }
}

// A write acknowledged APPLIED is readable at once; the barrier then reports a cursor that
// covers it. lattice-ctl offers both (kv put --no-sync, kv sync).
TEST(KernelDurability, AppliedWritesAreReadableAtOnceAndSyncedByTheBarrier) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  auto client = kernel.Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CreateStore("d", "kv").ok());
  uint64_t last_cursor = 0;
  for (int i = 0; i < 20; ++i) {
    std::string key = "k" + std::to_string(i);
    auto put = (*client)->Put("d", key, "v" + std::to_string(i), v1::DURABILITY_APPLIED);
    ASSERT_TRUE(put.ok()) << put.status();
    auto got = (*client)->Get("d", key);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(got->found()) << key << " acknowledged as applied is not readable";
    last_cursor = put->cursor();
  }
  auto del = (*client)->Delete("d", "k0", v1::DURABILITY_APPLIED);
  ASSERT_TRUE(del.ok()) << del.status();
  v1::BatchOp op;
  op.set_key("b");
  op.set_value("1");
  auto batch = (*client)->Batch("d", {op}, v1::DURABILITY_APPLIED);
  ASSERT_TRUE(batch.ok()) << batch.status();
  auto synced = (*client)->SyncKv("d");
  ASSERT_TRUE(synced.ok()) << synced.status();
  EXPECT_GE(synced->cursor(), batch->cursor());
  EXPECT_GT(batch->cursor(), last_cursor);

  CommandResult put = kernel.Ctl({"kv", "put", "d", "ctl", "x", "--no-sync"});
  ASSERT_EQ(put.exit_code, 0) << put.out << put.err;
  CommandResult get = kernel.Ctl({"kv", "get", "d", "ctl"});
  EXPECT_EQ(get.out, "x\n");
  CommandResult sync = kernel.Ctl({"kv", "sync", "d"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_GT(std::stoull(sync.out), synced->cursor());
  CommandResult batch_ctl = kernel.Ctl({"kv", "batch", "d", "put:c=1", "del:ctl", "--no-sync"});
  EXPECT_EQ(batch_ctl.exit_code, 0) << batch_ctl.out << batch_ctl.err;
  CommandResult del_ctl = kernel.Ctl({"kv", "del", "d", "c", "--no-sync"});
  EXPECT_EQ(del_ctl.exit_code, 0) << del_ctl.out << del_ctl.err;
}

// Chat.Post honours the durability Kv writes take: posts acknowledged APPLIED are readable
// at once, come back with increasing cursors among synced ones, and are there after SIGKILL.
TEST(KernelDurability, ChatPostsAcknowledgedAppliedAreReadableAtOnceAndKept) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  {
    auto client = kernel.Connect();
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE((*client)->CreateStore("talk", "chat").ok());
    uint64_t last_cursor = 0;
    for (int i = 0; i < 20; ++i) {
      v1::PostRequest request;
      request.set_store("talk");
      request.set_channel("#a");
      request.set_text("m" + std::to_string(i));
      request.set_sender("me");
      request.set_durability(i % 2 ? v1::DURABILITY_APPLIED : v1::DURABILITY_SYNCED);
      auto posted = (*client)->Post(request);
      ASSERT_TRUE(posted.ok()) << posted.status();
      EXPECT_GT(posted->cursor(), last_cursor);
      last_cursor = posted->cursor();
      auto history = (*client)->History("talk", "#a", 1);
      ASSERT_TRUE(history.ok()) << history.status();
      ASSERT_EQ(history->messages_size(), 1);
      EXPECT_EQ(history->messages(0).text(), request.text()) << "a post is not readable at once";
    }
  }
  kernel.Kill();
  ASSERT_TRUE(kernel.Start().ok());
  auto client = kernel.Connect();
  ASSERT_TRUE(client.ok());
  auto history = (*client)->History("talk", "#a", 100);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->messages_size(), 20);
}

// Writes acknowledged APPLIED from several clients, then a barrier that returned: all of them
// are there after SIGKILL and a restart, and the store verifies.
TEST(KernelDurability, AppliedWritesCoveredByABarrierSurviveSigkill) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  {
    auto admin = kernel.Connect();
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)->CreateStore("d", "kv").ok());
  }
  std::map<std::string, std::string> covered;
  for (int round = 0; round < 3; ++round) {
    std::mutex mutex;
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        auto client = kernel.Connect();
        ASSERT_TRUE(client.ok());
        for (int i = 0; i < 100; ++i) {
          std::string key = "r" + std::to_string(round) + "/w" + std::to_string(w) + "/" + std::to_string(i);
          std::string value = "value-" + std::to_string(i * 31 + w);
          auto put = (*client)->Put("d", key, value, v1::DURABILITY_APPLIED);
          ASSERT_TRUE(put.ok()) << put.status();
          std::lock_guard lock(mutex);
          covered[key] = value;
        }
      });
    }
    for (auto& t : writers) t.join();
    {
      auto client = kernel.Connect();
      ASSERT_TRUE(client.ok());
      auto synced = (*client)->SyncKv("d");
      ASSERT_TRUE(synced.ok()) << synced.status();
      // Written after the barrier: not covered, and nothing here says whether it survives.
      ASSERT_TRUE((*client)->Put("d", "after/" + std::to_string(round), "x",
                                 v1::DURABILITY_APPLIED).ok());
    }
    kernel.Kill();
    ASSERT_TRUE(kernel.Start().ok()) << "round " << round;
    auto client = kernel.Connect();
    ASSERT_TRUE(client.ok());
    for (const auto& [key, value] : covered) {
      auto got = (*client)->Get("d", key);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(got->found()) << "round " << round << ": " << key << " covered by a barrier was lost";
      ASSERT_EQ(got->value(), value);
    }
    auto verify = (*client)->VerifyStore("d");
    ASSERT_TRUE(verify.ok());
    ASSERT_TRUE(verify->ok()) << (verify->problems_size() ? verify->problems(0) : "");
  }
}

}  // namespace
}  // namespace lattice::testing
