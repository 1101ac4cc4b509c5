#include "lattice/common/status.h"
#include "services/supervisor.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "services/launch.h"
#include "services/service_limits.h"

namespace lattice::services {
namespace {

using std::chrono::milliseconds;

std::string EscapeLine(const std::string& line) {
  std::string out;
  out.reserve(line.size());
  for (unsigned char c : line) {
    if (c < 0x20 && c != '\t') out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

bool Active(InstanceStatus s) {
  return s == InstanceStatus::kStarting || s == InstanceStatus::kRunning || s == InstanceStatus::kStopping;
}

}  // namespace

std::string_view InstanceStatusName(InstanceStatus status) {
  switch (status) {
    case InstanceStatus::kStarting: return "starting";
    case InstanceStatus::kRunning: return "running";
    case InstanceStatus::kBackoff: return "backoff";
    case InstanceStatus::kStopping: return "stopping";
    case InstanceStatus::kExited: return "exited";
    case InstanceStatus::kFailed: return "failed";
    case InstanceStatus::kGone: return "stopped";
  }
  return "unknown";
}

void Supervisor::Converge(const std::vector<DesiredInstance>& desired, SteadyTime now) {
  std::map<InstanceKey, const DesiredInstance*> wanted;
  for (const auto& d : desired) wanted[d.key] = &d;
  for (auto it = instances_.begin(); it != instances_.end();) {
    Instance& instance = it->second;
    auto w = wanted.find(it->first);
    if (w == wanted.end()) {
      if (instance.wanted) instance.reason = "no longer wanted here";
      instance.wanted = false;
      instance.restart_when_stopped = false;
      if (Active(instance.status)) {
        if (instance.status != InstanceStatus::kStopping) {
          Stop(instance, now);
        }
        ++it;
        continue;
      }
      InstanceView gone = ViewOf(instance, now);
      gone.status = InstanceStatus::kGone;
      it = instances_.erase(it);
      host_.Changed(gone);
      continue;
    }
    instance.wanted = true;
    bool changed = !(instance.desired == *w->second);
    instance.desired = *w->second;
    if (changed) {
      if (instance.status == InstanceStatus::kStarting || instance.status == InstanceStatus::kRunning) {
        spdlog::info("service {}: its settings changed; restarting it", it->first.Name());
        instance.reason = "restarting with new settings";
        instance.restart_when_stopped = true;
        Stop(instance, now);
      } else if (instance.status == InstanceStatus::kStopping) {
        instance.restart_when_stopped = true;
      } else if (instance.status == InstanceStatus::kExited) {
        Start(instance, now);
      }
    } else if (instance.status == InstanceStatus::kStopping && !instance.restart_when_stopped &&
               instance.handle) {
      // Wanted again while stopping: let it stop, then start afresh.
      instance.restart_when_stopped = true;
    }
    ++it;
  }
  for (const auto& d : desired) {
    if (instances_.count(d.key)) continue;
    if (instances_.size() >= limits::kMaxInstances) {
      spdlog::error("service {}: not started, this node already supervises {} instances",
                    d.key.Name(), limits::kMaxInstances);
      continue;
    }
    Instance& instance = instances_[d.key];
    instance.desired = d;
    Start(instance, now);
  }
}

void Supervisor::StopAll(SteadyTime now) {
  for (auto& [key, instance] : instances_) {
    if (instance.wanted) instance.reason = "the kernel is shutting down";
    instance.wanted = false;
  }
  Converge({}, now);
}

void Supervisor::Start(Instance& instance, SteadyTime now) {
  const RestartSpec& restart = instance.desired.descriptor->restart;
  auto window = std::chrono::seconds(restart.start_limit_interval_s);
  while (!instance.starts.empty() && now - instance.starts.front() >= window) instance.starts.pop_front();
  if (instance.starts.size() >= restart.start_limit_burst) {
    instance.status = InstanceStatus::kFailed;
    instance.reason = fmt::format("started {} times within {}s (start limit); last: {}",
                                  instance.starts.size(), restart.start_limit_interval_s,
                                  instance.reason);
    spdlog::error("service {}: failed: {}; `lattice-ctl service reset` starts it again",
                  instance.desired.key.Name(), instance.reason);
    Publish(instance, now);
    return;
  }
  instance.starts.push_back(now);
  if (instance.started_once) ++instance.restarts;
  instance.started_once = true;
  instance.endpoints.clear();
  auto token = host_.MintToken(instance.desired);
  if (!token.ok()) {
    instance.status = InstanceStatus::kFailed;
    instance.reason = fmt::format("cannot mint its token: {}", token.status().message());
    spdlog::error("service {}: {}", instance.desired.key.Name(), instance.reason);
    Publish(instance, now);
    return;
  }
  LaunchSpec spec = BuildLaunch(*instance.desired.descriptor, instance.desired.binary,
                                instance.desired.key.store_id, instance.desired.values,
                                options_.socket_path, token->secret);
  auto started = runner_.Spawn(spec);
  if (!started.ok()) {
    host_.RevokeToken(token->id);
    instance.reason = std::string(started.status().message());
    spdlog::error("service {}: {}", instance.desired.key.Name(), instance.reason);
    // A start that failed counts as a failure: back off as after an exit.
    ++instance.consecutive_failures;
    uint64_t delay = restart.backoff_initial_ms;
    for (uint32_t i = 1; i < instance.consecutive_failures && delay < restart.backoff_max_ms; ++i) delay *= 2;
    instance.status = InstanceStatus::kBackoff;
    instance.next_start = now + milliseconds(std::min<uint64_t>(delay, restart.backoff_max_ms));
    Publish(instance, now);
    return;
  }
  instance.handle = started->handle;
  instance.pid = started->pid;
  instance.token_id = token->id;
  instance.run_started = now;
  instance.started_ms = host_.WallMs();
  instance.log_tokens = limits::kOutputLineBurst;
  instance.log_refill = now;
  host_.Spawned(instance.desired.key, *started, token->id);
  instance.status = instance.desired.descriptor->port_report == PortReport::kStdoutLine
                        ? InstanceStatus::kStarting
                        : InstanceStatus::kRunning;
  spdlog::info("service {}: started pid {}: {}", instance.desired.key.Name(), started->pid, spec.shown);
  Publish(instance, now);
}

void Supervisor::Stop(Instance& instance, SteadyTime now) {
  if (!instance.handle) return;
  const RestartSpec& restart = instance.desired.descriptor->restart;
  instance.status = InstanceStatus::kStopping;
  instance.kill_at = now + std::chrono::seconds(restart.stop_timeout_s);
  runner_.Signal(*instance.handle, restart.stop_signal);
  spdlog::info("service {}: stopping pid {} ({})", instance.desired.key.Name(), instance.pid, instance.reason);
  Publish(instance, now);
}

void Supervisor::Release(Instance& instance) {
  if (!instance.token_id.empty()) host_.RevokeToken(instance.token_id);
  instance.token_id.clear();
  instance.handle.reset();
  instance.pid = 0;
  instance.endpoints.clear();
  host_.Reaped(instance.desired.key);
}

Supervisor::Instance* Supervisor::ByHandle(uint64_t handle) {
  for (auto& [key, instance] : instances_) {
    if (instance.handle && *instance.handle == handle) return &instance;
  }
  return nullptr;
}

void Supervisor::Log(Instance& instance, bool is_stderr, const std::string& line, SteadyTime now) {
  double elapsed = std::chrono::duration<double>(now - instance.log_refill).count();
  instance.log_refill = now;
  instance.log_tokens = std::min(limits::kOutputLineBurst,
                                 instance.log_tokens + elapsed * limits::kOutputLinesPerSecond);
  if (instance.log_tokens < 1) {
    ++instance.log_dropped;
    return;
  }
  instance.log_tokens -= 1;
  if (instance.log_dropped > 0) {
    spdlog::warn("[{}] {} lines of output dropped (more than {}/s)", instance.desired.key.Name(),
                 instance.log_dropped, limits::kOutputLinesPerSecond);
    instance.log_dropped = 0;
  }
  spdlog::info("[{}{}] {}", instance.desired.key.Name(), is_stderr ? "" : " stdout", EscapeLine(line));
}

void Supervisor::OnLine(uint64_t handle, bool is_stderr, const std::string& line, SteadyTime now) {
  Instance* instance = ByHandle(handle);
  if (instance == nullptr) return;
  Log(*instance, is_stderr, line, now);
  if (is_stderr || instance->status != InstanceStatus::kStarting) return;
  if (instance->desired.descriptor->port_report != PortReport::kStdoutLine) return;
  if (auto endpoint = ParseListeningLine(line)) {
    instance->endpoints = {endpoint->endpoint};
    instance->status = InstanceStatus::kRunning;
    instance->reason.clear();
    Publish(*instance, now);
  }
}

void Supervisor::OnExit(uint64_t handle, const ProcessExit& exit, SteadyTime now) {
  Instance* found = ByHandle(handle);
  if (found == nullptr) return;
  Instance& instance = *found;
  const InstanceKey key = instance.desired.key;
  const RestartSpec& restart = instance.desired.descriptor->restart;
  bool was_stopping = instance.status == InstanceStatus::kStopping;
  auto ran = now - instance.run_started;
  Release(instance);
  spdlog::log(was_stopping ? spdlog::level::info : spdlog::level::warn, "service {}: {}",
              key.Name(), DescribeExit(exit));
  if (was_stopping) {
    if (instance.wanted && instance.restart_when_stopped) {
      instance.restart_when_stopped = false;
      instance.starts.clear();
      instance.consecutive_failures = 0;
      Start(instance, now);
      return;
    }
    if (!instance.wanted) {
      InstanceView gone = ViewOf(instance, now);
      gone.status = InstanceStatus::kGone;
      instances_.erase(key);
      host_.Changed(gone);
      return;
    }
    instance.status = InstanceStatus::kExited;
    instance.reason = "stopped";
    Publish(instance, now);
    return;
  }
  instance.reason = DescribeExit(exit);
  bool clean = exit.signal == 0 && exit.exit_code == 0;
  if (restart.policy == RestartPolicy::kNever || (clean && restart.policy == RestartPolicy::kOnFailure)) {
    instance.status = InstanceStatus::kExited;
    Publish(instance, now);
    return;
  }
  if (exit.signal == 0 && std::find(restart.no_restart_exit_codes.begin(), restart.no_restart_exit_codes.end(),
                                    exit.exit_code) != restart.no_restart_exit_codes.end()) {
    instance.status = InstanceStatus::kFailed;
    instance.reason += " (a configuration error to its descriptor: not restarted)";
    Publish(instance, now);
    return;
  }
  if (ran >= options_.healthy_run) instance.consecutive_failures = 0;
  ++instance.consecutive_failures;
  uint64_t delay = restart.backoff_initial_ms;
  for (uint32_t i = 1; i < instance.consecutive_failures && delay < restart.backoff_max_ms; ++i) delay *= 2;
  delay = std::min<uint64_t>(delay, restart.backoff_max_ms);
  instance.status = InstanceStatus::kBackoff;
  instance.next_start = now + milliseconds(delay);
  Publish(instance, now);
}

void Supervisor::Tick(SteadyTime now) {
  for (auto& [key, instance] : instances_) {
    if (instance.status == InstanceStatus::kBackoff && instance.wanted && now >= instance.next_start) {
      Start(instance, now);
    } else if (instance.status == InstanceStatus::kStopping && instance.handle && now >= instance.kill_at) {
      spdlog::warn("service {}: did not stop within {}s; killing it", key.Name(),
                   instance.desired.descriptor->restart.stop_timeout_s);
      runner_.Signal(*instance.handle, SIGKILL);
      instance.kill_at = SteadyTime::max();
    }
  }
}

std::optional<SteadyTime> Supervisor::NextDeadline() const {
  std::optional<SteadyTime> next;
  auto consider = [&](SteadyTime t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [key, instance] : instances_) {
    if (instance.status == InstanceStatus::kBackoff && instance.wanted) consider(instance.next_start);
    if (instance.status == InstanceStatus::kStopping && instance.handle && instance.kill_at != SteadyTime::max()) {
      consider(instance.kill_at);
    }
  }
  return next;
}

bool Supervisor::Reset(const InstanceKey& key, SteadyTime now) {
  auto it = instances_.find(key);
  if (it == instances_.end()) return false;
  Instance& instance = it->second;
  instance.starts.clear();
  instance.consecutive_failures = 0;
  instance.restarts = 0;
  instance.started_once = instance.handle.has_value();
  if (instance.wanted && (instance.status == InstanceStatus::kFailed ||
                          instance.status == InstanceStatus::kBackoff ||
                          instance.status == InstanceStatus::kExited)) {
    instance.reason.clear();
    Start(instance, now);
  } else {
    Publish(instance, now);
  }
  return true;
}

InstanceView Supervisor::ViewOf(const Instance& instance, SteadyTime now) const {
  InstanceView view;
  view.key = instance.desired.key;
  view.status = instance.status;
  view.reason = instance.reason;
  view.pid = instance.pid;
  view.endpoints = instance.endpoints;
  view.started_ms = instance.handle ? instance.started_ms : 0;
  view.restarts = instance.restarts;
  if (instance.status == InstanceStatus::kBackoff) {
    view.next_start_in_ms = std::max<int64_t>(
        0, std::chrono::duration_cast<milliseconds>(instance.next_start - now).count());
  }
  return view;
}

std::map<InstanceKey, SettingValues> Supervisor::RunningValues() const {
  std::map<InstanceKey, SettingValues> out;
  for (const auto& [key, instance] : instances_) {
    if (instance.handle) out[key] = instance.desired.values;
  }
  return out;
}

void Supervisor::Publish(const Instance& instance, SteadyTime now) { host_.Changed(ViewOf(instance, now)); }

std::vector<InstanceView> Supervisor::Views(SteadyTime now) const {
  std::vector<InstanceView> out;
  for (const auto& [key, instance] : instances_) out.push_back(ViewOf(instance, now));
  return out;
}

}  // namespace lattice::services
