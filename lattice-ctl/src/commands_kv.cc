// Key-value commands: kv put, get, del, scan, inspect, batch, sync, watch.
#include <fmt/format.h>

#include "commands.h"
#include "format_kv.h"
#include "input.h"
#include "interrupt.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {
namespace {

// --no-sync: acknowledged once applied rather than once durable.
v1::Durability DurabilityOf(const Arguments& args) {
  return args.no_sync ? v1::DURABILITY_APPLIED : v1::DURABILITY_SYNCED;
}

}  // namespace

absl::Status RunKvPut(Session& session) {
  const Arguments& args = session.args();
  std::string value = args.value;
  if (value == "-") {
    // Read before connecting: a slow producer must not hold a half-made call.
    LATTICE_ASSIGN_OR_RETURN(value, ReadStream(stdin, limits::kMaxValueBytes, "the value on stdin"));
  }
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::WriteResult result, client->Put(args.store, args.key, value,
                                                                   DurabilityOf(args)));
  if (session.json()) return session.printer().Json(WriteResultJson(result));
  return absl::OkStatus();
}

absl::Status RunKvGet(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::GetResponse response, client->Get(args.store, args.key));
  if (!response.found()) return absl::NotFoundError(EscapeForLine(args.key));
  if (session.json()) return session.printer().Json(GetJson(args.key, response));
  LATTICE_RETURN_IF_ERROR(session.printer().Write(response.value()));
  return session.printer().Write("\n");
}

absl::Status RunKvDel(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::WriteResult result, client->Delete(args.store, args.key,
                                                                      DurabilityOf(args)));
  if (session.json()) return session.printer().Json(WriteResultJson(result));
  return absl::OkStatus();
}

absl::Status RunKvScan(Session& session) {
  v1::ScanRequest request = BuildScanRequest(session.args());
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  Printer& printer = session.printer();
  nlohmann::json entries = nlohmann::json::array();
  absl::Status write_status;
  absl::Status status = client->Scan(request, [&](const v1::ScanEntry& entry) {
    if (printer.json()) {
      entries.push_back(ScanEntryJson(entry));
      return true;
    }
    write_status = printer.Line(ScanEntryLine(entry));
    return write_status.ok();
  });
  LATTICE_RETURN_IF_ERROR(write_status);
  LATTICE_RETURN_IF_ERROR(status);
  if (printer.json()) return printer.Json(nlohmann::json{{"entries", std::move(entries)}});
  return absl::OkStatus();
}

absl::Status RunKvInspect(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::InspectResponse response, client->Inspect(args.store, args.key));
  if (session.json()) return session.printer().Json(InspectJson(args.key, response));
  return session.printer().Write(InspectText(args.key, response));
}

absl::Status RunKvBatch(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(v1::BatchRequest request, BuildBatchRequest(args.store, args.ops));
  request.set_durability(DurabilityOf(args));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::WriteResult result, client->Batch(request));
  if (session.json()) return session.printer().Json(WriteResultJson(result));
  return absl::OkStatus();
}

absl::Status RunKvSync(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::KvSyncResponse response, client->SyncKv(args.store));
  if (session.json()) return session.printer().Json(nlohmann::json{{"cursor", response.cursor()}});
  return session.printer().Line(std::to_string(response.cursor()));
}

absl::Status RunKvWatch(Session& session) {
  const Arguments& args = session.args();
  v1::KvWatchRequest request = BuildKvWatchRequest(args);
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  Printer& printer = session.printer();
  client::WatchCanceller canceller;
  ScopedInterruptHook interrupt([&canceller] { canceller.Cancel(); });
  uint64_t printed = 0;
  absl::Status write_status;
  absl::Status status = client->WatchKv(
      request,
      [&](const v1::KvWatchResponse& response) {
        for (const auto& event : response.events()) {
          write_status = printer.json() ? printer.Json(KvEventJson(event), /*flush=*/true)
                                        : printer.Line(KvEventLine(event), /*flush=*/true);
          if (!write_status.ok()) return false;
          if (args.count != 0 && ++printed >= args.count) return false;
        }
        return true;
      },
      &canceller);
  LATTICE_RETURN_IF_ERROR(write_status);
  return ExplainBrokenStream(status);
}

}  // namespace lattice::ctl
