// Supervision of the instances this node runs (DESIGN §8): converges the running set to the
// desired one, starts each instance with a freshly minted token, restarts it with
// exponential backoff after it dies, marks it failed past its start limit (until Reset),
// stops it with its stop signal and then SIGKILL, and reports every change of state.
// It owns no thread: one caller (the ServiceManager's loop) drives it, feeding it the
// runner's events and calling Tick when NextDeadline comes. Time is passed in, so the
// policy is tested with a fake runner and a fake clock.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/descriptor.h"
#include "services/process_runner.h"
#include "services/settings.h"

namespace lattice::services {

using SteadyTime = std::chrono::steady_clock::time_point;

struct InstanceKey {
  std::string store_id;    // canonical UUID
  std::string service_id;
  auto operator<=>(const InstanceKey&) const = default;
  std::string Name() const { return service_id + "@" + store_id; }
};

// What one instance should run as.
struct DesiredInstance {
  InstanceKey key;
  std::shared_ptr<const ServiceDescriptor> descriptor;
  std::string binary;      // absolute path
  SettingValues values;    // checked, ports planned
  bool operator==(const DesiredInstance& other) const {
    return key == other.key && binary == other.binary && values == other.values &&
           descriptor == other.descriptor;
  }
};

enum class InstanceStatus { kStarting, kRunning, kBackoff, kStopping, kExited, kFailed, kGone };
std::string_view InstanceStatusName(InstanceStatus status);

// What `service list` and discovery show of an instance.
struct InstanceView {
  InstanceKey key;
  InstanceStatus status = InstanceStatus::kGone;
  std::string reason;                   // last exit, failure or note
  pid_t pid = 0;
  std::vector<std::string> endpoints;   // "tcp://HOST:PORT" once reported
  uint64_t started_ms = 0;              // wall clock of the current run's start
  uint32_t restarts = 0;                // automatic restarts since first start or reset
  int64_t next_start_in_ms = -1;        // in backoff: when it starts again
};

struct MintedToken {
  std::string id;
  std::string secret;
};

// What the supervisor needs from the node. Called on the supervisor's caller's thread.
class SupervisorHost {
 public:
  virtual ~SupervisorHost() = default;
  // A fresh token scoped to the instance's store and its descriptor's rights.
  virtual absl::StatusOr<MintedToken> MintToken(const DesiredInstance& instance) = 0;
  virtual void RevokeToken(const std::string& token_id) = 0;
  // A process now runs (or no longer runs) for `key`: journal it, so a kernel restarted
  // after SIGKILL ends what is left.
  virtual void Spawned(const InstanceKey& key, const StartedProcess& process,
                       const std::string& token_id) = 0;
  virtual void Reaped(const InstanceKey& key) = 0;
  // The instance changed state (kGone: it is no longer supervised).
  virtual void Changed(const InstanceView& view) = 0;
  virtual uint64_t WallMs() = 0;
};

struct SupervisorOptions {
  std::string socket_path;  // LATTICE_SOCKET of every instance
  // A run at least this long counts as healthy: the next failure starts backoff afresh.
  std::chrono::milliseconds healthy_run{10'000};
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, ProcessRunner& runner, SupervisorHost& host)
      : options_(std::move(options)), runner_(runner), host_(host) {}

  // Starts what is desired and not running, restarts what runs with other settings, stops
  // what is no longer desired. A failed instance stays failed until Reset.
  void Converge(const std::vector<DesiredInstance>& desired, SteadyTime now);
  // The runner's events.
  void OnLine(uint64_t handle, bool is_stderr, const std::string& line, SteadyTime now);
  void OnExit(uint64_t handle, const ProcessExit& exit, SteadyTime now);
  // Starts instances whose backoff is over and kills those that outstayed their stop timeout.
  void Tick(SteadyTime now);
  std::optional<SteadyTime> NextDeadline() const;
  // Forgets failures and restart counts; a failed or backing-off instance starts now.
  // False when no such instance is supervised.
  bool Reset(const InstanceKey& key, SteadyTime now);
  // Stops every instance (for shutdown): Converge({}) with the kernel's leaving as reason.
  void StopAll(SteadyTime now);
  bool Idle() const { return instances_.empty(); }
  std::vector<InstanceView> Views(SteadyTime now) const;
  // The settings each instance with a live process was started with.
  std::map<InstanceKey, SettingValues> RunningValues() const;

 private:
  struct Instance {
    DesiredInstance desired;
    bool wanted = true;
    bool restart_when_stopped = false;
    InstanceStatus status = InstanceStatus::kBackoff;
    std::string reason;
    std::optional<uint64_t> handle;
    pid_t pid = 0;
    std::string token_id;
    SteadyTime run_started{};
    uint64_t started_ms = 0;
    std::deque<SteadyTime> starts;   // within the start-limit interval
    uint32_t restarts = 0;
    uint32_t consecutive_failures = 0;
    bool started_once = false;
    SteadyTime next_start{};
    SteadyTime kill_at{};
    std::vector<std::string> endpoints;
    double log_tokens = 0;
    SteadyTime log_refill{};
    uint64_t log_dropped = 0;
  };

  void Start(Instance& instance, SteadyTime now);
  void Stop(Instance& instance, SteadyTime now);
  // After the process is gone: revoke, unjournal.
  void Release(Instance& instance);
  void Publish(const Instance& instance, SteadyTime now);
  InstanceView ViewOf(const Instance& instance, SteadyTime now) const;
  Instance* ByHandle(uint64_t handle);
  void Log(Instance& instance, bool is_stderr, const std::string& line, SteadyTime now);

  SupervisorOptions options_;
  ProcessRunner& runner_;
  SupervisorHost& host_;
  std::map<InstanceKey, Instance> instances_;
};

}  // namespace lattice::services
