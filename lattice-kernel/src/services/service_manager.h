// The ServiceManager (DESIGN §8): the kernel's reconciliation loop for daemons. It reads the
// descriptors at start, watches every mesh's root store (declarations, this node's tags,
// the store registry) and the node's own service settings, decides with the consent
// firewall what this node runs (plan.h), drives the Supervisor, and writes this node's
// discovery records. The operator's calls (service_admin.cc) change the node database or a
// root store and wait for the loop to have acted on it.
//
// Threads: one loop thread owns the Supervisor and is the only one that starts daemons (they
// die with it, PR_SET_PDEATHSIG); the runner's thread and the root stores' writers only post
// to it. The public methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/store_protocol.pb.h"
#include "node/node.h"
#include "services/catalog.h"
#include "services/plan.h"
#include "services/process_runner.h"
#include "services/service_book.h"
#include "services/supervisor.h"

namespace lattice::kernel {

struct ServiceManagerOptions {
  // Where descriptors are read; empty: services::DefaultServicesDir() (bare binary names
  // only). Directories named here are the operator's: their descriptors may name absolute
  // binaries.
  std::vector<std::string> services_dirs;
  std::string bin_dir;      // empty: the kernel's own (services::KernelBinDir())
  std::string socket_path;  // the kernel socket daemons get as LATTICE_SOCKET
  std::chrono::milliseconds healthy_run{10'000};
};

// A factory for the runner, so tests can put in a fake. It gets the callbacks to call.
using ProcessRunnerFactory = std::function<absl::StatusOr<std::unique_ptr<services::ProcessRunner>>(
    services::ProcessCallbacks callbacks)>;

class ServiceManager final : public services::SupervisorHost {
 public:
  // Ends what a previous kernel run left (run journal, instance tokens, discovery records),
  // then starts the loop. `node` outlives the manager. `make_runner` empty: the real one.
  static absl::StatusOr<std::unique_ptr<ServiceManager>> Start(Node& node,
                                                               ServiceManagerOptions options,
                                                               ProcessRunnerFactory make_runner = {});
  ~ServiceManager() override;

  // Stops every daemon (stop signal, SIGKILL after its timeout), revokes their tokens and
  // removes this node's discovery records; returns when all are gone. Idempotent.
  void Stop();

  // ---- the operator's calls (service_admin.cc) ----
  absl::StatusOr<v1::ListServicesResponse> List(const std::string& mesh);
  absl::StatusOr<v1::ServiceDeclarationInfo> Declare(const v1::DeclareServiceRequest& request);
  absl::StatusOr<v1::ServiceDeclarationInfo> Undeclare(const v1::UndeclareServiceRequest& request);
  absl::StatusOr<v1::ServiceConsentInfo> SetConsent(const v1::SetServiceConsentRequest& request);
  absl::StatusOr<v1::ServiceOverridesResponse> SetOverride(const v1::SetServiceOverrideRequest& request);
  absl::StatusOr<v1::ServiceInstanceInfo> Control(const v1::ControlServiceRequest& request);
  absl::StatusOr<v1::NodeTagsResponse> Tag(const v1::TagNodeRequest& request);

  // The supervised instances as they are now (Admin.Metrics). Any thread.
  std::vector<services::InstanceView> InstanceViews();

  // Runs a reconciliation that begins after this call and waits for it (tests, callers
  // that changed something). DEADLINE_EXCEEDED after `timeout`.
  absl::Status Reconciled(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // ---- SupervisorHost (loop thread) ----
  absl::StatusOr<services::MintedToken> MintToken(const services::DesiredInstance& instance) override;
  void RevokeToken(const std::string& token_id) override;
  void Spawned(const services::InstanceKey& key, const services::StartedProcess& process,
               const std::string& token_id) override;
  void Reaped(const services::InstanceKey& key) override;
  void Changed(const services::InstanceView& view) override;
  uint64_t WallMs() override;

 private:
  ServiceManager(Node& node, ServiceManagerOptions options);
  absl::Status Begin(ProcessRunnerFactory make_runner);
  void EndLeftovers();
  void ClearOwnDiscovery(const std::string& mesh_id);
  void WatchRoot(const std::string& mesh_id);
  void OnRootApplied(const std::vector<DecodedIntention>& applied);
  void Post(std::function<void()> task);
  void MarkDirty();
  void Loop();
  void Reconcile();
  void PublishDiscovery(const std::string& store_uuid, const std::string& service_id);
  PlanInputs GatherFacts();
  // Helpers of the operator's calls.
  absl::StatusOr<std::string> ResolveMesh(const std::string& mesh);
  absl::StatusOr<std::shared_ptr<const services::ServiceDescriptor>> DescriptorFor(const std::string& id);
  v1::ServiceInstanceInfo InstanceInfo(const services::InstanceKey& key);
  v1::ServiceDeclarationInfo DeclarationInfo(const std::string& service_id, const std::string& mesh_uuid,
                                             bool local, const absl::StatusOr<services::Declaration>& declaration,
                                             const std::string& author);

  Node& node_;
  ServiceManagerOptions options_;
  std::string self_;  // this node's raw id
  services::Catalog catalog_;
  ServiceBook book_;
  std::unique_ptr<services::ProcessRunner> runner_;
  std::unique_ptr<services::Supervisor> supervisor_;  // loop thread only
  std::map<std::pair<std::string, std::string>, std::string> published_;  // (mesh, service) -> record; loop only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool dirty_ = false;
  bool stop_requested_ = false;
  bool loop_done_ = false;
  uint64_t reconciles_started_ = 0;
  uint64_t reconciles_finished_ = 0;
  std::map<std::string, uint64_t> root_listeners_;  // mesh -> listener id
  uint64_t mesh_listener_ = 0;

  // What List shows, refreshed by the loop after each round.
  std::mutex view_mu_;
  std::vector<PlannedInstance> plan_;
  std::map<services::InstanceKey, services::InstanceView> views_;

  std::thread thread_;
};

}  // namespace lattice::kernel
