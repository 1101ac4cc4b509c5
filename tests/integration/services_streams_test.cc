// A ServiceManager instance's streams end with it: the kernel revokes the instance's token
// when the instance stops, and a watch opened with that token (by the daemon or by anything
// it handed the token to) ends with UNAUTHENTICATED instead of following the store on.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "integration/services_support.h"
#include "lattice/client/watch_canceller.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

TEST(ServiceStreams, AStoppedInstancesWatchEndsWithUnauthenticated) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  auto store = CreateChatStore(kernel, "lobby");
  ASSERT_TRUE(store.ok()) << store.status();
  CommandResult declared = kernel.Ctl({"service", "declare", kIrcGateway, "--store", "lobby", "--local",
                                       "--set", "port=0"});
  ASSERT_EQ(declared.exit_code, 0) << declared.err;
  auto running = WaitForInstance(kernel, kIrcGateway, *store, "running");
  ASSERT_TRUE(running.ok()) << running.status();
  std::string token;
  for (const auto& e : EnvironmentOf((*running)["pid"].get<pid_t>())) {
    if (e.rfind("LATTICE_TOKEN=", 0) == 0) token = e.substr(14);
  }
  ASSERT_FALSE(token.empty());

  auto client = kernel.Connect(token);
  ASSERT_TRUE(client.ok()) << client.status();
  client::WatchCanceller canceller;
  std::atomic<bool> watching{false};
  std::atomic<bool> done{false};
  absl::Status ended;
  std::thread watcher([&] {
    v1::ChatWatchRequest request;
    request.set_store("lobby");
    request.set_from_now(true);
    ended = (*client)->WatchChat(
        request, [&](const v1::ChatWatchResponse&) { return watching = true; }, &canceller);
    done = true;
  });
  ASSERT_TRUE(WaitFor([&] { return watching.load(); }));

  ASSERT_EQ(kernel.Ctl({"service", "stop", kIrcGateway, "--store", "lobby"}).exit_code, 0);
  bool ended_in_time = WaitFor([&] { return done.load(); }, 15s);
  canceller.Cancel();
  watcher.join();
  ASSERT_TRUE(ended_in_time) << "the watch outlived the instance that owned its token";
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnauthenticated) << ended;
}

}  // namespace
}  // namespace lattice::testing
