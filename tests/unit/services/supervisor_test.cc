// The supervision policy against a fake process runner and a hand-driven clock: start with a
// fresh token, port report, restart with exponential backoff, the start limit, stop with the
// stop signal then SIGKILL, no restart for configuration errors, restart on new settings.
#include "services/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

namespace lattice::services {
namespace {

using namespace std::chrono_literals;

class FakeRunner final : public ProcessRunner {
 public:
  absl::StatusOr<StartedProcess> Spawn(const LaunchSpec& spec) override {
    if (fail_next) {
      fail_next = false;
      return absl::FailedPreconditionError("cannot execute");
    }
    StartedProcess p{next_handle++, static_cast<pid_t>(1000 + next_handle), 1};
    specs[p.handle] = spec;
    alive.insert(p.handle);
    return p;
  }
  void Signal(uint64_t handle, int signal) override {
    if (alive.count(handle)) signals.emplace_back(handle, signal);
  }
  uint64_t last() const { return next_handle - 1; }

  uint64_t next_handle = 1;
  bool fail_next = false;
  std::map<uint64_t, LaunchSpec> specs;
  std::set<uint64_t> alive;
  std::vector<std::pair<uint64_t, int>> signals;
};

class FakeHost final : public SupervisorHost {
 public:
  absl::StatusOr<MintedToken> MintToken(const DesiredInstance&) override {
    std::string id = "t" + std::to_string(++minted);
    live_tokens.insert(id);
    return MintedToken{id, "secret-" + id};
  }
  void RevokeToken(const std::string& id) override { live_tokens.erase(id); }
  void Spawned(const InstanceKey&, const StartedProcess&, const std::string&) override { ++journaled; }
  void Reaped(const InstanceKey&) override { --journaled; }
  void Changed(const InstanceView& view) override { last[view.key] = view; }
  uint64_t WallMs() override { return 1'700'000'000'000; }

  int minted = 0;
  int journaled = 0;
  std::set<std::string> live_tokens;
  std::map<InstanceKey, InstanceView> last;
};

std::shared_ptr<const ServiceDescriptor> Descriptor(uint32_t burst = 3) {
  auto d = std::make_shared<ServiceDescriptor>();
  d->id = "test.daemon";
  d->binary = "daemon";
  d->store_type = "chat";
  d->store_flag = "--store";
  d->args = {"--log-level", "info"};
  d->token_rights = {"read"};
  d->port_report = PortReport::kStdoutLine;
  SettingSpec port;
  port.name = "port";
  port.type = SettingType::kInt;
  port.flag = "--port";
  port.port = true;
  d->settings.push_back(port);
  d->restart.backoff_initial_ms = 100;
  d->restart.backoff_max_ms = 1000;
  d->restart.start_limit_burst = burst;
  d->restart.start_limit_interval_s = 60;
  d->restart.no_restart_exit_codes = {2};
  d->restart.stop_timeout_s = 5;
  return d;
}

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : supervisor_({"/run/k.sock", 10'000ms}, runner_, host_) {}

  DesiredInstance Want(int64_t port = 7000, std::shared_ptr<const ServiceDescriptor> d = Descriptor()) {
    return DesiredInstance{key_, std::move(d), "/opt/bin/daemon", {{"port", port}}};
  }
  InstanceView View() { return host_.last.at(key_); }
  void Exit(uint64_t handle, int code, int signal = 0) {
    runner_.alive.erase(handle);
    supervisor_.OnExit(handle, ProcessExit{code, signal}, now_);
  }

  FakeRunner runner_;
  FakeHost host_;
  Supervisor supervisor_;
  InstanceKey key_{"3f2a1b2c-1111-4222-8333-444455556666", "test.daemon"};
  SteadyTime now_ = SteadyTime() + 1h;
};

TEST_F(SupervisorTest, StartsWithACleanEnvironmentAndAFreshTokenAndRunsOnceThePortIsReported) {
  supervisor_.Converge({Want()}, now_);
  ASSERT_EQ(runner_.specs.size(), 1u);
  const LaunchSpec& spec = runner_.specs.at(1);
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/opt/bin/daemon", "--store=" + key_.store_id,
                                                 "--log-level", "info", "--port=7000"}));
  EXPECT_EQ(spec.env, (std::vector<std::string>{"LATTICE_SOCKET=/run/k.sock", "LATTICE_TOKEN=secret-t1"}));
  EXPECT_EQ(View().status, InstanceStatus::kStarting);
  supervisor_.OnLine(1, false, "daemon listening on 127.0.0.1:7000", now_);
  EXPECT_EQ(View().status, InstanceStatus::kRunning);
  EXPECT_EQ(View().endpoints, std::vector<std::string>{"tcp://127.0.0.1:7000"});
  EXPECT_EQ(host_.journaled, 1);
  // Converging again with the same wish changes nothing.
  supervisor_.Converge({Want()}, now_);
  EXPECT_EQ(runner_.specs.size(), 1u);
}

TEST_F(SupervisorTest, ACrashIsRestartedWithDoublingBackoffAndANewToken) {
  supervisor_.Converge({Want()}, now_);
  Exit(1, 1);
  EXPECT_EQ(View().status, InstanceStatus::kBackoff);
  EXPECT_TRUE(host_.live_tokens.empty()) << "the dead instance's token is revoked";
  EXPECT_EQ(host_.journaled, 0);
  EXPECT_EQ(*supervisor_.NextDeadline(), now_ + 100ms);
  supervisor_.Tick(now_ + 99ms);
  EXPECT_EQ(runner_.specs.size(), 1u);
  now_ += 100ms;
  supervisor_.Tick(now_);
  ASSERT_EQ(runner_.specs.size(), 2u);
  EXPECT_EQ(runner_.specs.at(2).env[1], "LATTICE_TOKEN=secret-t2");
  EXPECT_EQ(View().restarts, 1u);
  Exit(2, 0, SIGKILL);
  EXPECT_EQ(*supervisor_.NextDeadline(), now_ + 200ms) << "the second failure waits twice as long";
}

TEST_F(SupervisorTest, TooManyStartsWithinTheIntervalMarkTheInstanceFailedUntilReset) {
  supervisor_.Converge({Want()}, now_);
  for (uint64_t handle = 1; handle <= 3; ++handle) {
    Exit(handle, 1);
    now_ += 2s;
    supervisor_.Tick(now_);
  }
  EXPECT_EQ(runner_.specs.size(), 3u) << "the burst is 3 starts";
  EXPECT_EQ(View().status, InstanceStatus::kFailed);
  EXPECT_NE(View().reason.find("start limit"), std::string::npos) << View().reason;
  EXPECT_FALSE(supervisor_.NextDeadline().has_value());
  supervisor_.Converge({Want()}, now_ + 1h);
  EXPECT_EQ(View().status, InstanceStatus::kFailed) << "failed stays failed, even later";
  EXPECT_TRUE(supervisor_.Reset(key_, now_));
  EXPECT_EQ(runner_.specs.size(), 4u);
  EXPECT_EQ(View().restarts, 0u);
}

TEST_F(SupervisorTest, AConfigurationErrorExitIsNotRestarted) {
  supervisor_.Converge({Want()}, now_);
  Exit(1, 2);
  EXPECT_EQ(View().status, InstanceStatus::kFailed);
  EXPECT_NE(View().reason.find("status 2"), std::string::npos);
}

TEST_F(SupervisorTest, ACleanExitIsNotRestartedUnderOnFailure) {
  supervisor_.Converge({Want()}, now_);
  Exit(1, 0);
  EXPECT_EQ(View().status, InstanceStatus::kExited);
  EXPECT_FALSE(supervisor_.NextDeadline().has_value());
}

TEST_F(SupervisorTest, StopSendsTheStopSignalThenSigkillAfterTheTimeout) {
  supervisor_.Converge({Want()}, now_);
  supervisor_.Converge({}, now_);
  ASSERT_EQ(runner_.signals.size(), 1u);
  EXPECT_EQ(runner_.signals[0], std::make_pair(uint64_t{1}, SIGTERM));
  EXPECT_EQ(View().status, InstanceStatus::kStopping);
  supervisor_.Tick(now_ + 4s);
  EXPECT_EQ(runner_.signals.size(), 1u);
  supervisor_.Tick(now_ + 5s);
  ASSERT_EQ(runner_.signals.size(), 2u);
  EXPECT_EQ(runner_.signals[1].second, SIGKILL);
  Exit(1, 0, SIGKILL);
  EXPECT_EQ(View().status, InstanceStatus::kGone);
  EXPECT_TRUE(supervisor_.Idle());
  EXPECT_TRUE(host_.live_tokens.empty());
  EXPECT_EQ(runner_.specs.size(), 1u) << "a stopped instance is not restarted";
}

TEST_F(SupervisorTest, NewSettingsRestartTheInstance) {
  supervisor_.Converge({Want(7000)}, now_);
  supervisor_.Converge({Want(7001)}, now_);
  ASSERT_EQ(runner_.signals.size(), 1u);
  Exit(1, 0);
  ASSERT_EQ(runner_.specs.size(), 2u);
  EXPECT_EQ(runner_.specs.at(2).argv.back(), "--port=7001");
  EXPECT_EQ(View().restarts, 1u);
}

TEST_F(SupervisorTest, ABinaryThatCannotBeStartedBacksOffLikeACrash) {
  runner_.fail_next = true;
  supervisor_.Converge({Want()}, now_);
  EXPECT_EQ(View().status, InstanceStatus::kBackoff);
  EXPECT_TRUE(host_.live_tokens.empty());
  now_ += 100ms;
  supervisor_.Tick(now_);
  EXPECT_EQ(View().status, InstanceStatus::kStarting);
}

TEST_F(SupervisorTest, AHealthyRunStartsTheBackoffAfresh) {
  supervisor_.Converge({Want()}, now_);
  Exit(1, 1);
  now_ += 100ms;
  supervisor_.Tick(now_);
  now_ += 20s;  // ran longer than healthy_run
  Exit(2, 1);
  EXPECT_EQ(*supervisor_.NextDeadline(), now_ + 100ms);
}

}  // namespace
}  // namespace lattice::services
