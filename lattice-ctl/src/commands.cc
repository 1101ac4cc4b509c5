#include "commands.h"

#include <chrono>

#include "errors.h"
#include "lattice/client/credentials.h"

namespace lattice::ctl {

client::ClientOptions ClientOptionsFor(const GlobalOptions& global) {
  client::ClientOptions options;
  options.socket_path = global.socket;
  options.token = global.token.empty() ? client::TokenFromEnvironment() : global.token;
  options.service_id = "lattice-ctl";
  return options;
}

absl::StatusOr<client::Client*> Session::client() {
  if (client_ == nullptr) {
    auto connected = client::Client::Connect(ClientOptionsFor(args_.global));
    if (!connected.ok()) return connected.status();
    client_ = std::move(*connected);
  }
  return client_.get();
}

absl::Status ExplainBrokenStream(const absl::Status& status) {
  // Our own stops (--count, Ctrl-C) return OK, so a cancellation came from the kernel's side.
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kCancelled) {
    return status;
  }
  return absl::UnavailableError("lost the connection to the kernel: " +
                                std::string(status.message()));
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

absl::Status RunCommand(Session& session) {
  switch (session.args().command) {
    case Command::kNone: return UsageError("no command given");
    case Command::kStatus: return RunStatus(session);
    case Command::kMetrics: return RunMetrics(session);
    case Command::kStoreCreate: return RunStoreCreate(session);
    case Command::kStoreList: return RunStoreList(session);
    case Command::kStoreArchive: return RunStoreArchive(session, true);
    case Command::kStoreUnarchive: return RunStoreArchive(session, false);
    case Command::kStoreStatus: return RunStoreStatus(session);
    case Command::kStoreSync: return RunStoreSync(session);
    case Command::kPeerInvite: return RunPeerInvite(session);
    case Command::kPeerJoin: return RunPeerJoin(session);
    case Command::kPeerList: return RunPeerList(session);
    case Command::kPeerRevoke: return RunPeerRevoke(session);
    case Command::kPeerRename: return RunPeerRename(session);
    case Command::kKvPut: return RunKvPut(session);
    case Command::kKvGet: return RunKvGet(session);
    case Command::kKvDel: return RunKvDel(session);
    case Command::kKvScan: return RunKvScan(session);
    case Command::kKvInspect: return RunKvInspect(session);
    case Command::kKvBatch: return RunKvBatch(session);
    case Command::kKvSync: return RunKvSync(session);
    case Command::kKvWatch: return RunKvWatch(session);
    case Command::kChatPost: return RunChatPost(session);
    case Command::kChatHistory: return RunChatHistory(session);
    case Command::kChatTopic: return RunChatTopic(session);
    case Command::kChatChannels: return RunChatChannels(session);
    case Command::kChatWatch: return RunChatWatch(session);
    case Command::kFsLs: return RunFsLs(session);
    case Command::kFsStat: return RunFsStat(session);
    case Command::kFsCat: return RunFsCat(session);
    case Command::kFsPut: return RunFsPut(session);
    case Command::kFsGet: return RunFsGet(session);
    case Command::kFsMkdir: return RunFsMkdir(session);
    case Command::kFsRm: return RunFsRm(session);
    case Command::kFsMv: return RunFsMv(session);
    case Command::kFsConflicts: return RunFsConflicts(session);
    case Command::kFsHistory: return RunFsHistory(session);
    case Command::kFsRestore: return RunFsRestore(session);
    case Command::kTokenCreate: return RunTokenCreate(session);
    case Command::kTokenList: return RunTokenList(session);
    case Command::kTokenRevoke: return RunTokenRevoke(session);
    case Command::kDebugVerify: return RunDebugVerify(session);
    case Command::kDebugIngest: return RunDebugIngest(session);
    case Command::kDebugForks: return RunDebugForks(session);
    case Command::kDebugFloating: return RunDebugFloating(session);
    case Command::kServiceList: return RunServiceList(session);
    case Command::kServiceDeclare: return RunServiceDeclare(session);
    case Command::kServiceUndeclare: return RunServiceUndeclare(session);
    case Command::kServiceConsent: return RunServiceConsent(session);
    case Command::kServiceOverride: return RunServiceOverride(session);
    case Command::kServiceStart: return RunServiceControl(session, "start");
    case Command::kServiceStop: return RunServiceControl(session, "stop");
    case Command::kServiceReset: return RunServiceControl(session, "reset");
    case Command::kNodeTagAdd: return RunNodeTag(session, false);
    case Command::kNodeTagRemove: return RunNodeTag(session, true);
  }
  return UsageError("unknown command");
}

}  // namespace lattice::ctl
