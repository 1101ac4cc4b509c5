// The kernel's server streams (Kv.Scan, Kv.Watch, Chat.Watch) against a real kernel: they
// stay inside a token's scope and lifetime, page large values by bytes, and many clients
// that stop reading cannot exhaust the kernel's threads or memory.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "harness/kernel_process.h"
#include "lattice/common/files.h"
#include "lattice/common/limits.h"
#include "lattice/common/paths.h"
#include "lattice/v1/store_protocol.grpc.pb.h"

namespace lattice::testing {
namespace {

using std::chrono_literals::operator""s;

// AddressSanitizer's redzones and quarantine of freed memory make the kernel's RSS say
// little about what it holds; the tests built with it (as the kernel then is) skip that check.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// A field of /proc/PID/status ("Threads", "VmRSS" in kB), or -1.
long ProcStatus(pid_t pid, const std::string& field) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (!text.ok()) return -1;
  size_t at = text->find("\n" + field + ":");
  if (at == std::string::npos) return -1;
  return std::stol(text->substr(at + field.size() + 2));
}

class KernelStreams : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    ASSERT_TRUE(admin_->CreateStore("s", "kv").ok());
  }

  v1::CreateTokenResponse Token(std::vector<std::string> rights, std::vector<std::string> prefixes = {},
                                uint64_t ttl_seconds = 0) {
    v1::CreateTokenRequest request;
    request.set_name("t");
    request.add_stores("s");
    for (auto& r : rights) request.add_rights(r);
    for (auto& p : prefixes) request.add_prefixes(p);
    request.set_ttl_seconds(ttl_seconds);
    auto created = admin_->CreateToken(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::CreateTokenResponse();
  }

  // Runs a watch of store "s" with `token` on a thread of its own; `ended` holds its status
  // once it returns. The watch is cancelled by the fixture's end if it never ends.
  struct OpenWatch {
    std::unique_ptr<client::Client> client;
    client::WatchCanceller canceller;
    std::atomic<bool> first{false};
    std::atomic<bool> done{false};
    absl::Status ended;
    std::thread thread;
    ~OpenWatch() {
      canceller.Cancel();
      if (thread.joinable()) thread.join();
    }
  };
  void StartWatch(OpenWatch& watch, const std::string& token) {
    auto client = kernel_.Connect(token);
    ASSERT_TRUE(client.ok()) << client.status();
    watch.client = *std::move(client);
    watch.thread = std::thread([&watch] {
      v1::KvWatchRequest request;
      request.set_store("s");
      request.set_from_now(true);
      watch.ended = watch.client->WatchKv(
          request, [&](const v1::KvWatchResponse&) { return watch.first = true; }, &watch.canceller);
      watch.done = true;
    });
    ASSERT_TRUE(WaitFor([&] { return watch.first.load(); }));
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
};

TEST_F(KernelStreams, APrefixLimitedTokenScansOnlyItsPrefixWhateverTheRangeSays) {
  for (const char* key : {"pub/a", "pub/b", "pubx", "secret/x", "zzz"}) {
    ASSERT_TRUE(admin_->Put("s", key, "v").ok());
  }
  auto scoped = kernel_.Connect(Token({"read"}, {"pub/"}).token());
  ASSERT_TRUE(scoped.ok()) << scoped.status();
  v1::ScanRequest request;
  request.set_store("s");
  request.set_prefix("pub/");
  request.set_end("\xff\xff\xff");
  std::vector<std::string> keys;
  ASSERT_TRUE((*scoped)->Scan(request, [&](const v1::ScanEntry& e) {
    keys.push_back(e.key());
    return true;
  }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"pub/a", "pub/b"}));
  // A start below the prefix does not reach below it either.
  request.set_start("a");
  keys.clear();
  ASSERT_TRUE((*scoped)->Scan(request, [&](const v1::ScanEntry& e) {
    keys.push_back(e.key());
    return true;
  }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"pub/a", "pub/b"}));
}

TEST_F(KernelStreams, AWatchEndsWithUnauthenticatedWhenItsTokenIsRevoked) {
  auto token = Token({"watch"});
  OpenWatch watch;
  StartWatch(watch, token.token());
  ASSERT_TRUE(admin_->RevokeToken(token.info().id()).ok());
  ASSERT_TRUE(WaitFor([&] { return watch.done.load(); }, 10s)) << "the watch outlived its token";
  EXPECT_EQ(watch.ended.code(), absl::StatusCode::kUnauthenticated) << watch.ended;
  EXPECT_NE(watch.ended.message().find("revoked"), std::string::npos) << watch.ended;
}

TEST_F(KernelStreams, AWatchEndsWithUnauthenticatedWhenItsTokenExpires) {
  OpenWatch watch;
  StartWatch(watch, Token({"watch"}, {}, 3).token());
  ASSERT_TRUE(WaitFor([&] { return watch.done.load(); }, 15s)) << "the watch outlived its token";
  EXPECT_EQ(watch.ended.code(), absl::StatusCode::kUnauthenticated) << watch.ended;
  EXPECT_NE(watch.ended.message().find("expired"), std::string::npos) << watch.ended;
}

TEST_F(KernelStreams, MaximalValuesAreScannedAndWatchedCompletelyAndResumably) {
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    std::string value(limits::kMaxValueBytes, static_cast<char>('a' + i));
    ASSERT_TRUE(admin_->Put("s", "big/" + std::to_string(100 + i), value).ok());
  }
  std::vector<std::string> scanned;
  ASSERT_TRUE(admin_->Scan("s", "big/", [&](const v1::ScanEntry& e) {
    EXPECT_EQ(e.value().size(), limits::kMaxValueBytes);
    scanned.push_back(e.key());
    return true;
  }).ok());
  EXPECT_EQ(scanned.size(), static_cast<size_t>(kCount));

  // Watch from the start, stop half-way, resume from the last cursor seen.
  v1::KvWatchRequest request;
  request.set_store("s");
  request.set_prefix("big/");
  std::vector<std::string> watched;
  uint64_t cursor = 0;
  ASSERT_TRUE(admin_->WatchKv(request, [&](const v1::KvWatchResponse& response) {
    for (const auto& event : response.events()) {
      EXPECT_EQ(event.value().size(), limits::kMaxValueBytes);
      watched.push_back(event.key());
      cursor = event.cursor();
    }
    return watched.size() < kCount / 2;
  }).ok());
  ASSERT_GE(watched.size(), static_cast<size_t>(kCount / 2));
  request.set_from_cursor(cursor);
  ASSERT_TRUE(admin_->WatchKv(request, [&](const v1::KvWatchResponse& response) {
    for (const auto& event : response.events()) watched.push_back(event.key());
    return watched.size() < kCount;
  }).ok());
  EXPECT_EQ(watched, scanned);
}

TEST_F(KernelStreams, AHistoryPageOfMaximalMessagesFitsInOneMessage) {
  ASSERT_TRUE(admin_->CreateStore("c", "chat").ok());
  // The largest page of maximal messages (text, channel and sender at their limits) is larger
  // than one gRPC message. Posted from several threads so their commits group.
  constexpr int kThreads = 4;
  constexpr int kCount = static_cast<int>(limits::kMaxHistoryLimit);
  const std::string channel = "#" + std::string(limits::kMaxChannelBytes - 1, 'c');
  const std::string sender(limits::kMaxSenderBytes, 's');
  const std::string text(limits::kMaxChatTextBytes, 'x');
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kCount / kThreads; ++i) {
        ASSERT_TRUE(admin_->Post("c", channel, text, sender).ok());
      }
    });
  }
  for (auto& p : posters) p.join();
  size_t seen = 0;
  std::string before;
  for (int pages = 0; pages < kCount; ++pages) {
    auto page = admin_->History("c", channel, limits::kMaxHistoryLimit, before);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_GT(page->messages_size(), 0);
    seen += page->messages_size();
    before = page->next_before();
    if (before.empty()) break;
  }
  EXPECT_EQ(seen, static_cast<size_t>(kCount));
}

TEST_F(KernelStreams, AWatchFromACursorBeyondTheLogsEndIsOutOfRange) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(admin_->Put("s", "k" + std::to_string(i), "v").ok());
  v1::KvWatchRequest request;
  request.set_store("s");
  request.set_from_cursor(1000);
  absl::Status status = admin_->WatchKv(request, [&](const v1::KvWatchResponse&) {
    return false;  // a watch that opens answers at once; this one must not open
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange) << status;
  EXPECT_NE(status.message().find("1000"), std::string::npos) << status;
  request.set_from_cursor(3);  // the end itself is fine
  EXPECT_TRUE(admin_->WatchKv(request, [](const v1::KvWatchResponse&) { return false; }).ok());
}

// Raw Kv.Watch calls on one channel that are started and never read, as a stalled or
// hostile client would leave them. A thread polls the completion queue, so the calls go out
// and the connection is serviced, but no Read is ever asked for.
class UnreadWatches {
 public:
  UnreadWatches(const std::string& socket, const std::string& credential) : credential_(credential) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(limits::kMaxRpcMessageBytes);
    channel_ = grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Kv::NewStub(channel_);
    poller_ = std::thread([this] {
      void* tag;
      bool ok;
      while (queue_.Next(&tag, &ok)) {
        switch (static_cast<Tag*>(tag)->kind) {
          case Tag::kStart: ++started_; break;
          case Tag::kRead: if (ok) ++answered_; break;
          case Tag::kFinish: ++finished_; break;
        }
      }
    });
  }
  ~UnreadWatches() {
    for (auto& call : calls_) call->context.TryCancel();
    for (auto& call : calls_) call->reader->Finish(&call->status, &call->finish);
    WaitFor([&] { return finished_.load() == calls_.size(); });
    queue_.Shutdown();
    poller_.join();
  }

  void Open(const v1::KvWatchRequest& request) {
    auto call = std::make_unique<Call>();
    call->context.AddMetadata("authorization", "Bearer " + credential_);
    call->reader = stub_->PrepareAsyncWatch(&call->context, request, &queue_);
    call->reader->StartCall(&call->start);
    calls_.push_back(std::move(call));
  }
  size_t started() const { return started_.load(); }
  // Asks each call for its first response, which the kernel sends once it has admitted the
  // stream; answered() then counts the streams the kernel holds.
  void ReadFirstResponses() {
    for (auto& call : calls_) call->reader->Read(&call->first, &call->read);
  }
  size_t answered() const { return answered_.load(); }

 private:
  struct Tag {
    enum Kind { kStart, kRead, kFinish } kind;
  };
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<v1::KvWatchResponse>> reader;
    grpc::Status status;
    v1::KvWatchResponse first;
    Tag start{Tag::kStart};
    Tag read{Tag::kRead};
    Tag finish{Tag::kFinish};
  };
  std::string credential_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Kv::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<Call>> calls_;
  std::atomic<size_t> started_{0};
  std::atomic<size_t> answered_{0};
  std::atomic<size_t> finished_{0};
  std::thread poller_;
};

TEST_F(KernelStreams, WatchesThatNeverReadHoldNeitherThreadsNorTheLog) {
  auto cookie = ReadFile(CookiePathForSocket(kernel_.socket()));
  ASSERT_TRUE(cookie.ok());
  while (!cookie->empty() && cookie->back() == '\n') cookie->pop_back();
  long threads_before = ProcStatus(kernel_.pid(), "Threads");
  long rss_before = ProcStatus(kernel_.pid(), "VmRSS");
  ASSERT_GT(threads_before, 0);
  constexpr int kWatches = 100;
  constexpr int kValues = 64;
  const std::string value(128 * 1024, 'v');
  {
    UnreadWatches watches(kernel_.socket(), *cookie);
    v1::KvWatchRequest request;
    request.set_store("s");
    for (int i = 0; i < kWatches; ++i) watches.Open(request);
    ASSERT_TRUE(WaitFor([&] { return watches.started() == kWatches; }));
    for (int i = 0; i < kValues; ++i) {
      ASSERT_TRUE(admin_->Put("s", "v" + std::to_string(i), value).ok());
    }
    // One pump serves every stream in turn, so once a watch that reads has every value, each
    // stalled one has had as many turns and holds all it ever will.
    size_t read = 0;
    ASSERT_TRUE(admin_->WatchKv(request, [&](const v1::KvWatchResponse& response) {
      read += response.events_size();
      return read < kValues;
    }).ok());
    auto got = admin_->Get("s", "v0");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->found());
    long threads = ProcStatus(kernel_.pid(), "Threads");
    long rss = ProcStatus(kernel_.pid(), "VmRSS");
    // A thread per stream would be 100 more, and the log (8 MiB) per stream 800 MB more. A
    // stalled stream holds about two pages (its own and gRPC's serialized copy).
    EXPECT_LT(threads, threads_before + 20) << "threads before: " << threads_before;
    if (!kAddressSanitizer) {
      EXPECT_LT(rss - rss_before, 600L * 1024) << "kB, before: " << rss_before;
    }
  }
  // The cancelled streams gave their slots back: a watch opens as before.
  v1::KvWatchRequest request;
  request.set_store("s");
  request.set_from_now(true);
  EXPECT_TRUE(admin_->WatchKv(request, [](const v1::KvWatchResponse&) { return false; }).ok());
}

TEST_F(KernelStreams, StreamsBeyondTheTokenCapAreRefusedWithResourceExhausted) {
  std::string token = Token({"watch"}).token();
  absl::Status refused;
  {
    UnreadWatches watches(kernel_.socket(), token);
    v1::KvWatchRequest request;
    request.set_store("s");
    for (size_t i = 0; i < limits::kMaxStreamsPerToken; ++i) watches.Open(request);
    auto client = kernel_.Connect(token);
    ASSERT_TRUE(client.ok());
    // The raw calls open in the background: wait until the kernel has admitted every one
    // (each has its first response), so no probe below holds a slot one of them needs.
    ASSERT_TRUE(WaitFor([&] { return watches.started() == limits::kMaxStreamsPerToken; }, 60s))
        << watches.started() << " of " << limits::kMaxStreamsPerToken << " watches started";
    watches.ReadFirstResponses();
    ASSERT_TRUE(WaitFor([&] { return watches.answered() == limits::kMaxStreamsPerToken; }, 60s))
        << watches.answered() << " of " << limits::kMaxStreamsPerToken << " watches admitted";
    ASSERT_TRUE(WaitFor([&] {
      refused = (*client)->WatchKv(request, [&](const v1::KvWatchResponse&) { return false; });
      return refused.code() == absl::StatusCode::kResourceExhausted;
    }, 60s)) << refused;
    EXPECT_NE(refused.message().find(std::to_string(limits::kMaxStreamsPerToken)), std::string::npos)
        << refused;
    // Another credential is not affected.
    v1::KvWatchRequest other;
    other.set_store("s");
    EXPECT_TRUE(admin_->WatchKv(other, [](const v1::KvWatchResponse&) { return false; }).ok());
  }
  // Once they are cancelled, the token may open streams again.
  auto client = kernel_.Connect(token);
  ASSERT_TRUE(client.ok());
  v1::KvWatchRequest request;
  request.set_store("s");
  EXPECT_TRUE(WaitFor([&] {
    return (*client)->WatchKv(request, [](const v1::KvWatchResponse&) { return false; }).ok();
  }));
}

}  // namespace
}  // namespace lattice::testing
