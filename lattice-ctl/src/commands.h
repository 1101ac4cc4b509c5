// The commands of lattice-ctl. Each reads its Arguments, builds its requests (usage errors
// surface before any connection is made), calls the kernel through the Session and prints
// through the Printer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli.h"
#include "lattice/client.h"
#include "output.h"

namespace lattice::ctl {

// The ClientOptions for lattice-ctl: --socket, and --token else $LATTICE_TOKEN (an empty
// token means the admin cookie).
client::ClientOptions ClientOptionsFor(const GlobalOptions& global);

// What a running command works with. Connects to the kernel on first use of client().
// Lives on the main thread.
class Session {
 public:
  Session(const Arguments& args, Printer& printer) : args_(args), printer_(printer) {}

  const Arguments& args() const { return args_; }
  Printer& printer() { return printer_; }
  bool json() const { return printer_.json(); }

  absl::StatusOr<client::Client*> client();

 private:
  const Arguments& args_;
  Printer& printer_;
  std::unique_ptr<client::Client> client_;
};

// A watch that ended with UNAVAILABLE or CANCELLED lost the kernel mid-stream; say so.
absl::Status ExplainBrokenStream(const absl::Status& status);

// This machine's clock, in milliseconds since the epoch (for "5m ago" and expiry).
uint64_t NowMs();

// How store sync ends: OK when every peer's result is ok; UNAVAILABLE naming the first peer
// that failed, its error and how many more failed; FAILED_PRECONDITION when there was no
// peer to sync with (nothing was reconciled).
absl::Status SyncVerdict(const std::string& store, const v1::SyncStoreResponse& response);

// Runs the command chosen in session.args().
absl::Status RunCommand(Session& session);

absl::Status RunStatus(Session& session);
absl::Status RunMetrics(Session& session);
absl::Status RunStoreCreate(Session& session);
absl::Status RunStoreList(Session& session);
absl::Status RunStoreArchive(Session& session, bool archive);
absl::Status RunStoreStatus(Session& session);
absl::Status RunStoreSync(Session& session);

absl::Status RunPeerInvite(Session& session);
absl::Status RunPeerJoin(Session& session);
absl::Status RunPeerList(Session& session);
absl::Status RunPeerRevoke(Session& session);
absl::Status RunPeerRename(Session& session);

absl::Status RunKvPut(Session& session);
absl::Status RunKvGet(Session& session);
absl::Status RunKvDel(Session& session);
absl::Status RunKvScan(Session& session);
absl::Status RunKvInspect(Session& session);
absl::Status RunKvBatch(Session& session);
absl::Status RunKvSync(Session& session);
absl::Status RunKvWatch(Session& session);

absl::Status RunChatPost(Session& session);
absl::Status RunChatHistory(Session& session);
absl::Status RunChatTopic(Session& session);
absl::Status RunChatChannels(Session& session);
absl::Status RunChatWatch(Session& session);

absl::Status RunFsLs(Session& session);
absl::Status RunFsStat(Session& session);
absl::Status RunFsCat(Session& session);
absl::Status RunFsPut(Session& session);
absl::Status RunFsGet(Session& session);
absl::Status RunFsMkdir(Session& session);
absl::Status RunFsRm(Session& session);
absl::Status RunFsMv(Session& session);
absl::Status RunFsConflicts(Session& session);
absl::Status RunFsHistory(Session& session);
absl::Status RunFsRestore(Session& session);

absl::Status RunTokenCreate(Session& session);
absl::Status RunTokenList(Session& session);
absl::Status RunTokenRevoke(Session& session);

absl::Status RunDebugVerify(Session& session);
absl::Status RunDebugIngest(Session& session);
absl::Status RunDebugForks(Session& session);
absl::Status RunDebugFloating(Session& session);

absl::Status RunServiceList(Session& session);
absl::Status RunServiceDeclare(Session& session);
absl::Status RunServiceUndeclare(Session& session);
absl::Status RunServiceConsent(Session& session);
absl::Status RunServiceOverride(Session& session);
absl::Status RunServiceControl(Session& session, const std::string& action);
absl::Status RunNodeTag(Session& session, bool remove);

}  // namespace lattice::ctl
