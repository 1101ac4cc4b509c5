// Supervision with real processes: a killed daemon comes back with backoff and clients can
// reconnect; a daemon that dies at once every time ends failed after the start limit while
// the kernel stays healthy; SIGTERM to the kernel stops every daemon before it exits;
// SIGKILL to the kernel leaves none behind, and its restart starts each instance once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integration/services_support.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

// A kernel with a chat store `name` whose gateway is declared locally (no consent needed).
struct LocalGateway {
  explicit LocalGateway(KernelProcess& kernel, const std::string& name, int port = 0) {
    auto created = CreateChatStore(kernel, name);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return;
    store = *created;
    CommandResult declared = kernel.Ctl({"service", "declare", kIrcGateway, "--store", name, "--local",
                                         "--set", "port=" + std::to_string(port)});
    EXPECT_EQ(declared.exit_code, 0) << declared.err;
  }
  std::string store;
};

TEST(ServiceSupervision, AKilledDaemonIsRestartedAndClientsCanReconnect) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  LocalGateway gateway(kernel, "lobby");
  auto first = WaitForInstance(kernel, kIrcGateway, gateway.store, "running");
  ASSERT_TRUE(first.ok()) << first.status();
  pid_t pid = (*first)["pid"];
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto second = WaitForInstance(kernel, kIrcGateway, gateway.store, "running", 20s,
                                [&](const nlohmann::json& i) { return i["pid"] != pid; });
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)["restarts"], 1) << second->dump();
  EXPECT_TRUE(ChatThroughIrc(EndpointPort(*second), "bob", "#back", "after the crash").ok());
  EXPECT_TRUE(WaitForChatMessage(kernel, "lobby", "#back", "after the crash"));
  EXPECT_EQ(DaemonPids(gateway.store).size(), 1u);
}

TEST(ServiceSupervision, ADaemonThatDiesAtOnceEndsFailedAfterTheStartLimit) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  // Something else holds the port: lattice-irc cannot bind it and exits at once, each time.
  int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);

  LocalGateway gateway(kernel, "doomed", port);
  // The shipped descriptor: 5 starts within 300 s, backoff from 0.5 s doubling.
  auto failed = WaitForInstance(kernel, kIrcGateway, gateway.store, "failed", 60s);
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ((*failed)["restarts"], 4) << failed->dump();
  EXPECT_NE((*failed)["reason"].get<std::string>().find("start limit"), std::string::npos);
  EXPECT_TRUE(DaemonPids(gateway.store).empty());
  EXPECT_EQ(kernel.Ctl({"status"}).exit_code, 0) << "the kernel stays healthy";
  EXPECT_TRUE(kernel.running());

  // Failed stays failed until the operator resets it; then it runs once the port is free.
  ::close(holder);
  ASSERT_EQ(kernel.Ctl({"service", "reset", kIrcGateway, "--store", "doomed"}).exit_code, 0);
  auto running = WaitForInstance(kernel, kIrcGateway, gateway.store, "running", 20s);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(EndpointPort(*running), port);
  EXPECT_EQ((*running)["restarts"], 0);
}

TEST(ServiceKernelLifecycle, SigtermStopsEveryDaemonBeforeTheKernelExits) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  LocalGateway a(kernel, "a");
  LocalGateway b(kernel, "b");
  auto ra = WaitForInstance(kernel, kIrcGateway, a.store, "running");
  auto rb = WaitForInstance(kernel, kIrcGateway, b.store, "running");
  ASSERT_TRUE(ra.ok() && rb.ok());
  pid_t pa = (*ra)["pid"], pb = (*rb)["pid"];
  EXPECT_EQ(kernel.Stop(), 0);
  // The kernel reaped both before it exited: nothing of them is left, not even a zombie.
  EXPECT_FALSE(ProcessAlive(pa));
  EXPECT_FALSE(ProcessAlive(pb));
  EXPECT_TRUE(DaemonPids(a.store).empty());
  EXPECT_TRUE(DaemonPids(b.store).empty());
}

TEST(ServiceKernelLifecycle, SigkillLeavesNoDaemonAndTheRestartStartsEachInstanceOnce) {
  ScratchDir dir;
  KernelProcess kernel(dir.path());
  ASSERT_TRUE(kernel.Start().ok());
  LocalGateway gateway(kernel, "lobby");
  auto before = WaitForInstance(kernel, kIrcGateway, gateway.store, "running");
  ASSERT_TRUE(before.ok()) << before.status();
  pid_t old_pid = (*before)["pid"];
  std::string old_token;
  for (const auto& e : EnvironmentOf(old_pid)) {
    if (e.rfind("LATTICE_TOKEN=", 0) == 0) old_token = e.substr(14);
  }
  ASSERT_FALSE(old_token.empty());

  kernel.Kill();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(old_pid); }, 10s)) << "the daemon outlived its kernel";
  EXPECT_TRUE(DaemonPids(gateway.store).empty());

  ASSERT_TRUE(kernel.Start().ok());
  auto after = WaitForInstance(kernel, kIrcGateway, gateway.store, "running", 20s);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE((*after)["pid"], old_pid);
  EXPECT_EQ(DaemonPids(gateway.store).size(), 1u);
  EXPECT_EQ((*after)["restarts"], 0);
  auto stale = kernel.Connect(old_token);
  EXPECT_FALSE(stale.ok()) << "the token of the killed kernel's daemon is gone";
  // Still one after the loop has had its chance to act again.
  ASSERT_EQ(kernel.Ctl({"service", "consent", kIrcGateway, "manual"}).exit_code, 0);
  EXPECT_EQ(DaemonPids(gateway.store).size(), 1u);
}

}  // namespace
}  // namespace lattice::testing
