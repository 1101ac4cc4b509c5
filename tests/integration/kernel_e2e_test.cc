// End to end through the real binaries: a kernel on a temporary directory, driven by
// lattice-ctl and by the client library.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/kernel_process.h"
#include "lattice/client/resuming_watch.h"
#include "lattice/common/files.h"
#include "lattice/common/paths.h"

namespace lattice::testing {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class KernelE2E : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(kernel_.Start().ok()) << ReadLog(); }

  std::string ReadLog() {
    auto log = ReadFile(kernel_.log_path());
    return log.ok() ? *log : "";
  }

  CommandResult CtlOk(const std::vector<std::string>& args, const std::string& input = "") {
    CommandResult r = kernel_.Ctl(args, input);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    return r;
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
};

TEST_F(KernelE2E, StoresAndKeysThroughCtl) {
  std::string id = Trim(CtlOk({"store", "create", "notes", "--type", "kv"}).out);
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_NE(CtlOk({"store", "list"}).out.find("notes"), std::string::npos);

  CtlOk({"kv", "put", "notes", "greeting", "hello"});
  EXPECT_EQ(Trim(CtlOk({"kv", "get", "notes", "greeting"}).out), "hello");
  EXPECT_EQ(Trim(CtlOk({"kv", "get", id, "greeting"}).out), "hello");  // by id too

  CommandResult missing = kernel_.Ctl({"kv", "get", "notes", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;

  CtlOk({"kv", "put", "notes", "from-stdin", "-"}, std::string("bin\0ary\n", 8));
  auto json = nlohmann::json::parse(CtlOk({"--json", "kv", "get", "notes", "from-stdin"}).out);
  EXPECT_EQ(json["value"].get<std::string>().size(), 8u);

  CtlOk({"kv", "batch", "notes", "put:a/1=x", "put:a/2=y", "put:b/1=z"});
  std::string scan = CtlOk({"kv", "scan", "notes", "a/"}).out;
  EXPECT_NE(scan.find("a/1"), std::string::npos);
  EXPECT_NE(scan.find("a/2"), std::string::npos);
  EXPECT_EQ(scan.find("b/1"), std::string::npos);

  CtlOk({"kv", "del", "notes", "a/1"});
  EXPECT_EQ(kernel_.Ctl({"kv", "get", "notes", "a/1"}).exit_code, 1);
  std::string inspect = CtlOk({"kv", "inspect", "notes", "a/2"}).out;
  EXPECT_NE(inspect.find("y"), std::string::npos);

  CtlOk({"debug", "verify", "notes"});
}

TEST_F(KernelE2E, ChatHistoryThroughCtlIsInOrder) {
  CtlOk({"store", "create", "talk", "--type", "chat"});
  for (const char* text : {"one", "two", "three"}) CtlOk({"chat", "post", "talk", "#general", text});
  auto client = kernel_.Connect();
  ASSERT_TRUE(client.ok());
  auto history = (*client)->History("talk", "#general");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->messages_size(), 3);
  auto reply = (*client)->Reply("talk", history->messages(0).hash(), "re: one", "bob");
  ASSERT_TRUE(reply.ok()) << reply.status();
  std::string out = CtlOk({"chat", "history", "talk", "#general"}).out;
  size_t one = out.find("one"), re = out.find("re: one"), two = out.find("two");
  ASSERT_NE(re, std::string::npos) << out;
  EXPECT_LT(one, re);
  EXPECT_LT(two, re);  // the reply is newest by clock, and after its parent
}

TEST_F(KernelE2E, APostIsStoredWithItsMsgidAndRepliesAndReactionsMayNameItByIt) {
  CtlOk({"store", "create", "talk", "--type", "chat"});
  auto client = kernel_.Connect();
  ASSERT_TRUE(client.ok());
  v1::PostRequest post;
  post.set_store("talk");
  post.set_channel("#general");
  post.set_text("hello");
  post.set_sender("alice");
  post.set_msgid("0123abcd.1");
  auto posted = (*client)->Post(post);
  ASSERT_TRUE(posted.ok()) << posted.status();

  auto reply = (*client)->Reply("talk", "0123abcd.1", "hi alice", "bob");
  ASSERT_TRUE(reply.ok()) << reply.status();
  auto history = (*client)->History("talk", "#general");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->messages_size(), 2);
  EXPECT_EQ(history->messages(0).msgid(), "0123abcd.1");
  EXPECT_EQ(history->messages(1).ref(), posted->hash());
  EXPECT_EQ(history->messages(1).ref_msgid(), "0123abcd.1");
  auto json = nlohmann::json::parse(CtlOk({"--json", "chat", "history", "talk", "#general"}).out);
  EXPECT_NE(json.dump().find("\"msgid\":\"0123abcd.1\""), std::string::npos) << json.dump();

  // What names no stored message, or could be taken for a hash, is refused with a reason.
  EXPECT_EQ((*client)->Reply("talk", "0123abcd.2", "to nobody", "bob").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ((*client)->Reply("talk", "not an id", "to nobody", "bob").status().code(),
            absl::StatusCode::kInvalidArgument);
  post.set_msgid(std::string(64, 'b'));
  auto hashlike = (*client)->Post(post);
  EXPECT_EQ(hashlike.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(hashlike.status().message().find("hash"), std::string::npos) << hashlike.status();
  post.set_msgid(std::string(65, 'b'));
  EXPECT_EQ((*client)->Post(post).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*client)->History("talk", "#general")->messages_size(), 2);
}

TEST_F(KernelE2E, WatcherSeesEveryChangeAndResumesWithoutGapsOrRepeats) {
  auto client = kernel_.Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CreateStore("w", "kv").ok());
  std::vector<std::string> seen;
  uint64_t cursor = 0;
  // First connection: read the first 20 changes, then disconnect.
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*client)->Put("w", "k" + std::to_string(i), "v").ok());
  });
  v1::KvWatchRequest request;
  request.set_store("w");
  ASSERT_TRUE((*client)->WatchKv(request, [&](const v1::KvWatchResponse& response) {
    for (const auto& event : response.events()) {
      if (seen.size() == 20) return false;
      seen.push_back(event.key());
      cursor = event.cursor();
    }
    return seen.size() < 20;
  }).ok());
  writer.join();
  for (int i = 50; i < 60; ++i) ASSERT_TRUE((*client)->Put("w", "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE((*client)->Delete("w", "k0").ok());
  // Second connection: resume from the cursor.
  request.set_from_cursor(cursor);
  ASSERT_TRUE((*client)->WatchKv(request, [&](const v1::KvWatchResponse& response) {
    for (const auto& event : response.events()) seen.push_back(event.deleted() ? "del:" + event.key() : event.key());
    return seen.size() < 61;
  }).ok());
  ASSERT_EQ(seen.size(), 61u);
  for (int i = 0; i < 60; ++i) EXPECT_EQ(seen[i], "k" + std::to_string(i));
  EXPECT_EQ(seen[60], "del:k0");

  // The same through lattice-ctl: one line per event with its cursor.
  CommandResult watch = CtlOk({"kv", "watch", "w", "k5", "--from", "0", "--count", "11"});
  EXPECT_EQ(std::count(watch.out.begin(), watch.out.end(), '\n'), 11) << watch.out;
}

TEST_F(KernelE2E, ResumingWatchSurvivesAKernelKill) {
  auto client = kernel_.Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CreateStore("r", "kv").ok());
  v1::KvWatchRequest request;
  request.set_store("r");
  client::ClientOptions options;
  options.socket_path = kernel_.socket();
  client::ResumingWatch<client::KvWatchTraits> watch(options, request);
  std::mutex mutex;
  std::vector<std::string> seen;
  std::thread consumer([&] {
    auto status = watch.Run([&](const v1::KvEvent& event) {
      std::lock_guard lock(mutex);
      seen.push_back(event.key());
      return seen.size() < 40;
    });
    EXPECT_TRUE(status.ok()) << status;
  });
  auto count = [&] { std::lock_guard lock(mutex); return seen.size(); };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*client)->Put("r", "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(WaitFor([&] { return count() == 20; }));
  kernel_.Kill();
  ASSERT_TRUE(kernel_.Start().ok());
  auto again = kernel_.Connect();
  ASSERT_TRUE(again.ok());
  for (int i = 20; i < 40; ++i) ASSERT_TRUE((*again)->Put("r", "k" + std::to_string(i), "v").ok());
  consumer.join();
  ASSERT_EQ(seen.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(seen[i], "k" + std::to_string(i));
}

TEST_F(KernelE2E, AnOpenWatchEndsWithUnavailableWhenTheKernelStops) {
  auto client = kernel_.Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CreateStore("s", "kv").ok());
  std::atomic<bool> watching{false};
  absl::Status ended;
  std::thread watcher([&] {
    v1::KvWatchRequest request;
    request.set_store("s");
    ended = (*client)->WatchKv(request, [&](const v1::KvWatchResponse&) {
      watching = true;  // the first response names the starting cursor
      return true;
    });
  });
  ASSERT_TRUE(WaitFor([&] { return watching.load(); }));
  EXPECT_EQ(kernel_.Stop(), 0);
  watcher.join();
  // Told by the kernel, not cut off when its shutdown grace ran out.
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable) << ended;
  EXPECT_NE(ended.message().find("the kernel is stopping"), std::string::npos) << ended;
}

TEST_F(KernelE2E, ArchivedStoreRefusesWritesButServesReads) {
  CtlOk({"store", "create", "old", "--type", "kv"});
  CtlOk({"kv", "put", "old", "k", "v"});
  CtlOk({"store", "archive", "old"});
  CommandResult refused = kernel_.Ctl({"kv", "put", "old", "k", "w"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("archived"), std::string::npos) << refused.err;
  EXPECT_EQ(Trim(CtlOk({"kv", "get", "old", "k"}).out), "v");
  EXPECT_EQ(CtlOk({"store", "list"}).out.find("old"), std::string::npos);
  CtlOk({"store", "unarchive", "old"});
  CtlOk({"kv", "put", "old", "k", "w"});
}

TEST_F(KernelE2E, IdentityStoresAndFileModesPersistAcrossRestart) {
  auto before = nlohmann::json::parse(CtlOk({"--json", "status"}).out);
  std::string node_id = before["node"].value("id", "");
  ASSERT_EQ(node_id.size(), 64u) << before.dump();  // a 32-byte Ed25519 key, in hex
  CtlOk({"store", "create", "keep", "--type", "kv"});
  CtlOk({"kv", "put", "keep", "k", "v"});
  std::string cookie_before = *ReadFile(CookiePathForSocket(kernel_.socket()));
  EXPECT_EQ(kernel_.Stop(), 0);
  ASSERT_TRUE(kernel_.Start().ok());
  EXPECT_EQ(Trim(CtlOk({"kv", "get", "keep", "k"}).out), "v");
  // The same identity, as lattice-ctl and a client session each see it.
  auto after = nlohmann::json::parse(CtlOk({"--json", "status"}).out);
  EXPECT_EQ(after["node"].value("id", ""), node_id) << after.dump();
  auto client = kernel_.Connect();
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->session().node().node_id(), node_id);
  EXPECT_NE(*ReadFile(CookiePathForSocket(kernel_.socket())), cookie_before);

  struct stat st {};
  ASSERT_EQ(::stat((kernel_.data_dir() + "/identity.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(kernel_.socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ASSERT_EQ(::stat(CookiePathForSocket(kernel_.socket()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(KernelStart, RefusesAnIdentityKeyReadableByOthers) {
  ScratchDir dir;
  {
    KernelProcess kernel(dir.path());
    ASSERT_TRUE(kernel.Start().ok());
    EXPECT_EQ(kernel.Stop(), 0);
  }
  ASSERT_EQ(::chmod((dir.path() + "/data/identity.key").c_str(), 0644), 0);
  KernelProcess kernel(dir.path());
  EXPECT_FALSE(kernel.Start().ok());
  auto log = ReadFile(kernel.log_path());
  EXPECT_NE(log->find("chmod 600"), std::string::npos) << *log;
}

TEST(KernelStart, RefusesAWriteBufferOutOfRangeAndNamesTheSetting) {
  ScratchDir dir;
  {
    KernelProcess kernel(dir.path(), {"--write-buffer-mb", "0"});
    EXPECT_FALSE(kernel.Start().ok());
    auto log = ReadFile(kernel.log_path());
    ASSERT_TRUE(log.ok());
    EXPECT_NE(log->find("--write-buffer-mb"), std::string::npos) << *log;
  }
  std::string config = dir.path() + "/kernel.toml";
  ASSERT_TRUE(WriteFileAtomic(config, "write_buffer_mb = 0\n", 0600).ok());
  KernelProcess kernel(dir.path(), {"--config", config});
  EXPECT_FALSE(kernel.Start().ok());
  auto log = ReadFile(kernel.log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("write_buffer_mb"), std::string::npos) << *log;
}

// With a 1 MiB memtable, a few megabytes of writes go through many memtable flushes and
// compactions; every acknowledged write is still there after a restart.
TEST(KernelStart, ASmallWriteBufferFlushesOftenAndLosesNothing) {
  ScratchDir dir;
  KernelProcess kernel(dir.path(), {"--write-buffer-mb", "1"});
  ASSERT_TRUE(kernel.Start().ok());
  {
    auto client = kernel.Connect();
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE((*client)->CreateStore("small", "kv").ok());
    for (int i = 0; i < 300; ++i) {
      std::string value(8 << 10, static_cast<char>('a' + i % 26));
      ASSERT_TRUE((*client)->Put("small", "k" + std::to_string(i), value).ok()) << i;
    }
  }
  // Tables exist before any restart only if memtables were flushed: the setting took hold
  // (at the default 64 MiB these writes would all still be in the first memtable).
  int tables = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kernel.data_dir() + "/stores")) {
    if (entry.path().extension() == ".ldb") ++tables;
  }
  EXPECT_GE(tables, 2);
  EXPECT_EQ(kernel.Stop(), 0);
  ASSERT_TRUE(kernel.Start().ok());
  auto client = kernel.Connect();
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 300; ++i) {
    auto read = (*client)->Get("small", "k" + std::to_string(i));
    ASSERT_TRUE(read.ok()) << read.status();
    ASSERT_TRUE(read->found()) << i;
    EXPECT_EQ(read->value(), std::string(8 << 10, static_cast<char>('a' + i % 26))) << i;
  }
  auto verify = (*client)->VerifyStore("small");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << (verify->problems_size() ? verify->problems(0) : "");
  EXPECT_EQ(kernel.Stop(), 0);
}

}  // namespace
}  // namespace lattice::testing
