#include "lattice/common/status.h"
#include "services/service_manager.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "dag/intention.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "services/posix_process_runner.h"
#include "services/registry.h"
#include "services/service_limits.h"
#include "state/kv_state.h"
#include "store/store_type.h"

namespace lattice::kernel {
namespace {

using services::InstanceKey;
using services::InstanceStatus;
using Clock = std::chrono::steady_clock;

constexpr auto kLeftoverExitWait = std::chrono::seconds(5);
constexpr auto kStopMargin = std::chrono::seconds(3);

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceManager>> ServiceManager::Start(Node& node,
                                                                      ServiceManagerOptions options,
                                                                      ProcessRunnerFactory make_runner) {
  std::unique_ptr<ServiceManager> manager(new ServiceManager(node, std::move(options)));
  LATTICE_RETURN_IF_ERROR(manager->Begin(std::move(make_runner)));
  return manager;
}

ServiceManager::ServiceManager(Node& node, ServiceManagerOptions options)
    : node_(node), options_(std::move(options)), book_(node.node_db()) {
  self_ = node.identity().public_key;
  if (options_.bin_dir.empty()) options_.bin_dir = services::KernelBinDir();
  std::error_code ec;
  auto socket = std::filesystem::absolute(options_.socket_path, ec);
  if (!ec) options_.socket_path = socket.string();
}

absl::Status ServiceManager::Begin(ProcessRunnerFactory make_runner) {
  bool explicit_dirs = !options_.services_dirs.empty();
  std::vector<std::string> dirs = explicit_dirs ? options_.services_dirs
                                                : std::vector<std::string>{services::DefaultServicesDir()};
  catalog_ = services::LoadCatalog(dirs, /*allow_absolute_binary=*/explicit_dirs,
                                   /*missing_ok=*/!explicit_dirs);
  spdlog::info("services: {} descriptors from {} (binaries in {})", catalog_.descriptors.size(),
               fmt::join(dirs, ", "), options_.bin_dir);
  EndLeftovers();

  services::ProcessCallbacks callbacks;
  callbacks.on_line = [this](uint64_t handle, bool is_stderr, std::string line) {
    Post([this, handle, is_stderr, line = std::move(line)] {
      supervisor_->OnLine(handle, is_stderr, line, Clock::now());
    });
  };
  callbacks.on_exit = [this](uint64_t handle, services::ProcessExit exit) {
    Post([this, handle, exit] { supervisor_->OnExit(handle, exit, Clock::now()); });
  };
  if (make_runner) {
    LATTICE_ASSIGN_OR_RETURN(runner_, make_runner(std::move(callbacks)));
  } else {
    LATTICE_ASSIGN_OR_RETURN(runner_, services::PosixProcessRunner::Create(std::move(callbacks)));
  }
  services::SupervisorOptions supervisor_options;
  supervisor_options.socket_path = options_.socket_path;
  supervisor_options.healthy_run = options_.healthy_run;
  supervisor_ = std::make_unique<services::Supervisor>(supervisor_options, *runner_, *this);

  mesh_listener_ = node_.AddMeshListener([this](const std::string& mesh_id) {
    Post([this, mesh_id] { WatchRoot(mesh_id); });
    MarkDirty();
  });
  for (const auto& mesh : node_.Meshes()) {
    if (auto id = ParseStoreId(mesh.root_store_id())) WatchRoot(*id);
  }
  dirty_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ServiceManager::EndLeftovers() {
  // Daemons of a kernel that was SIGKILLed died with it (PR_SET_PDEATHSIG); what they
  // started themselves may not have: end each recorded process group that still exists.
  for (const auto& record : book_.RunRecords()) {
    pid_t pid = record.pid();
    if (pid > 1 && services::ProcessIsLive(pid, record.start_ticks())) {
      spdlog::warn("service {}@{}: pid {} of a previous run is still alive; killing it",
                   record.service_id(), record.store_id(), pid);
      // Not our child (its kernel is gone): a pidfd tells when it has exited.
      int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      if (pidfd >= 0) {
        pollfd exited{pidfd, POLLIN, 0};
        (void)::poll(&exited, 1, static_cast<int>(std::chrono::milliseconds(kLeftoverExitWait).count()));
        ::close(pidfd);
      }
    }
    (void)book_.DeleteRunRecord(InstanceKey{record.store_id(), record.service_id()});
  }
  // Tokens of runs that ended (or of a SIGKILLed kernel's runs) are of no use any more.
  if (auto tokens = node_.tokens().List(); tokens.ok()) {
    for (const auto& token : *tokens) {
      if (!token.service_instance().empty()) (void)node_.tokens().Delete(token.id());
    }
  }
  for (const auto& mesh : node_.Meshes()) {
    if (auto id = ParseStoreId(mesh.root_store_id())) ClearOwnDiscovery(*id);
  }
}

void ServiceManager::ClearOwnDiscovery(const std::string& mesh_id) {
  Store* root = node_.RootOf(mesh_id);
  if (root == nullptr) return;
  std::vector<KvWrite> deletes;
  for (const auto& [service, instances] : ReadDiscovery(*root, self_)) {
    deletes.push_back({DiscoveryKey(self_, service), "", true});
  }
  if (deletes.empty()) return;
  if (auto s = root->WriteKv(std::move(deletes)); !s.ok()) {
    spdlog::warn("services: cannot clear stale discovery records in mesh {}: {}",
                 FormatStoreId(mesh_id), s.status().message());
  }
}

ServiceManager::~ServiceManager() {
  Stop();
  if (mesh_listener_ != 0) node_.RemoveMeshListener(mesh_listener_);
  for (const auto& [mesh, id] : root_listeners_) {
    if (Store* root = node_.RootOf(mesh)) root->Unsubscribe(id);
  }
  runner_.reset();
}

void ServiceManager::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServiceManager::WatchRoot(const std::string& mesh_id) {
  if (root_listeners_.count(mesh_id)) return;
  Store* root = node_.RootOf(mesh_id);
  if (root == nullptr) return;
  root_listeners_[mesh_id] = root->Subscribe(
      [this](const std::vector<DecodedIntention>& applied) { OnRootApplied(applied); });
}

void ServiceManager::OnRootApplied(const std::vector<DecodedIntention>& applied) {
  // On the root store's writer: only decide whether anything services read changed.
  std::string own_tags = TagsKey(self_);
  ForEachKeyWritten(applied, [&](std::string_view key) {
    if (key.substr(0, services::kDeclarationPrefix.size()) == services::kDeclarationPrefix ||
        key.substr(0, 8) == "/stores/" || key == own_tags) {
      MarkDirty();
      return false;
    }
    return true;
  });
}

void ServiceManager::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

void ServiceManager::MarkDirty() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

absl::Status ServiceManager::Reconciled(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  uint64_t target = reconciles_started_ + 1;
  dirty_ = true;
  cv_.notify_all();
  bool done = cv_.wait_for(lock, timeout, [&] { return reconciles_finished_ >= target || loop_done_; });
  if (loop_done_) return absl::UnavailableError("the ServiceManager is stopping");
  if (!done) return absl::DeadlineExceededError("the ServiceManager did not reconcile in time");
  return absl::OkStatus();
}

void ServiceManager::Loop() {
  bool stopping = false;
  Clock::time_point stop_deadline{};
  while (true) {
    std::deque<std::function<void()>> tasks;
    bool dirty = false;
    auto next = supervisor_->NextDeadline();
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return !tasks_.empty() || dirty_ || (stop_requested_ && !stopping); };
      if (stopping) {
        auto until = std::min(next.value_or(stop_deadline), stop_deadline);
        cv_.wait_until(lock, until, ready);
      } else if (next) {
        cv_.wait_until(lock, *next, ready);
      } else {
        cv_.wait(lock, ready);
      }
      tasks.swap(tasks_);
      if (!stopping && dirty_) {
        dirty = true;
        ++reconciles_started_;
      }
      dirty_ = false;
      if (stop_requested_ && !stopping) {
        stopping = true;
        uint32_t longest = 0;
        for (const auto& [id, d] : catalog_.descriptors) longest = std::max(longest, d->restart.stop_timeout_s);
        stop_deadline = Clock::now() + std::chrono::seconds(longest) + kStopMargin;
      }
    }
    for (auto& task : tasks) task();
    if (stopping) {
      supervisor_->StopAll(Clock::now());
    } else if (dirty) {
      Reconcile();
    }
    supervisor_->Tick(Clock::now());
    {
      std::lock_guard lock(mu_);
      if (dirty) reconciles_finished_ = reconciles_started_;
      if (stopping && (supervisor_->Idle() || Clock::now() >= stop_deadline)) {
        loop_done_ = true;
        reconciles_finished_ = reconciles_started_;
      }
    }
    cv_.notify_all();
    if (loop_done_) break;
  }
  if (!supervisor_->Idle()) spdlog::error("services: some daemons did not stop in time");
}

PlanInputs ServiceManager::GatherFacts() {
  PlanInputs in;
  in.catalog = &catalog_;
  in.bin_dir = options_.bin_dir;
  auto consents = book_.Consents();
  for (const auto& mesh : node_.Meshes()) {
    auto id = ParseStoreId(mesh.root_store_id());
    if (!id) continue;
    Store* root = node_.RootOf(*id);
    if (root == nullptr) continue;
    MeshFacts facts;
    facts.mesh_uuid = mesh.root_store_id();
    facts.own_tags = ReadOwnTags(*root, self_);
    size_t ignored = 0;
    facts.declarations = ReadDeclarations(*root, &ignored);
    for (const auto& [key, consent] : consents) {
      if (key.store_id == facts.mesh_uuid) facts.consents[key.service_id] = consent;
    }
    for (const auto& d : node_.StoresOfMesh(*id)) {
      StoreFacts store;
      store.uuid = FormatStoreId(d.id);
      store.name = d.name;
      store.type = std::string(StoreTypeName(d.type));
      store.mesh_uuid = facts.mesh_uuid;
      store.archived = d.status == "archived";
      in.stores[store.uuid] = store;
    }
    in.meshes.push_back(std::move(facts));
  }
  in.local_declarations = book_.LocalDeclarations();
  in.overrides = book_.Overrides();
  in.controls = book_.Controls();
  in.running_values = supervisor_->RunningValues();
  return in;
}

void ServiceManager::Reconcile() {
  // Newly joined meshes whose root the loop has not subscribed to yet.
  for (const auto& mesh : node_.Meshes()) {
    if (auto id = ParseStoreId(mesh.root_store_id())) WatchRoot(*id);
  }
  std::vector<PlannedInstance> plan = PlanInstances(GatherFacts());
  std::vector<services::DesiredInstance> desired;
  for (const auto& p : plan) {
    if (p.run) desired.push_back(p.desired);
  }
  supervisor_->Converge(desired, Clock::now());
  std::lock_guard lock(view_mu_);
  plan_ = std::move(plan);
}

// ---- SupervisorHost ----------------------------------------------------------------------

absl::StatusOr<services::MintedToken> ServiceManager::MintToken(const services::DesiredInstance& instance) {
  const auto& d = *instance.descriptor;
  LATTICE_ASSIGN_OR_RETURN(
      NewToken token,
      node_.tokens().Create("service " + instance.key.Name(), {instance.key.store_id},
                            d.token_prefixes, d.token_rights, /*ttl_seconds=*/0,
                            node_.clock().WallMs(), instance.key.Name()));
  return services::MintedToken{token.record.id(), token.secret};
}

void ServiceManager::RevokeToken(const std::string& token_id) {
  if (auto revoked = node_.tokens().Revoke(token_id); !revoked.ok()) {
    spdlog::error("services: cannot revoke token {}: {}", token_id, revoked.status().message());
  }
}

void ServiceManager::Spawned(const InstanceKey& key, const services::StartedProcess& process,
                             const std::string& token_id) {
  v1::ServiceRunRecord record;
  record.set_service_id(key.service_id);
  record.set_store_id(key.store_id);
  record.set_pid(process.pid);
  record.set_start_ticks(process.start_ticks);
  record.set_token_id(token_id);
  if (auto s = book_.PutRunRecord(record); !s.ok()) {
    spdlog::error("service {}: cannot journal pid {}: {}", key.Name(), process.pid, s.message());
  }
}

void ServiceManager::Reaped(const InstanceKey& key) { (void)book_.DeleteRunRecord(key); }

uint64_t ServiceManager::WallMs() { return node_.clock().WallMs(); }

void ServiceManager::Changed(const services::InstanceView& view) {
  {
    std::lock_guard lock(view_mu_);
    if (view.status == InstanceStatus::kGone) views_.erase(view.key);
    else views_[view.key] = view;
  }
  PublishDiscovery(view.key.store_id, view.key.service_id);
}

std::vector<services::InstanceView> ServiceManager::InstanceViews() {
  std::lock_guard lock(view_mu_);
  std::vector<services::InstanceView> out;
  out.reserve(views_.size());
  for (const auto& [key, view] : views_) out.push_back(view);
  return out;
}

void ServiceManager::PublishDiscovery(const std::string& store_uuid, const std::string& service_id) {
  auto store = ParseStoreId(store_uuid);
  if (!store) return;
  std::string mesh = node_.MeshOfStore(*store);
  Store* root = mesh.empty() ? nullptr : node_.RootOf(mesh);
  if (root == nullptr) return;
  std::vector<DiscoveredInstance> instances;
  {
    std::lock_guard lock(view_mu_);
    for (const auto& [key, view] : views_) {
      if (key.service_id != service_id) continue;
      auto other = ParseStoreId(key.store_id);
      if (!other || node_.MeshOfStore(*other) != mesh) continue;
      instances.push_back(DiscoveredInstance{key.store_id, std::string(services::InstanceStatusName(view.status)),
                                             view.endpoints, view.started_ms, view.restarts});
    }
  }
  auto slot = std::make_pair(mesh, service_id);
  std::string record = instances.empty() ? "" : services::SerializeDiscovery(instances);
  auto it = published_.find(slot);
  if ((it == published_.end() && record.empty()) || (it != published_.end() && it->second == record)) return;
  KvWrite write{DiscoveryKey(self_, service_id), record, record.empty()};
  if (auto s = root->WriteKv({write}); !s.ok()) {
    spdlog::warn("service {}@{}: cannot write its discovery record: {}", service_id, store_uuid,
                 s.status().message());
    return;
  }
  if (record.empty()) published_.erase(slot);
  else published_[slot] = record;
}

}  // namespace lattice::kernel
