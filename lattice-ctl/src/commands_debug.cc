// Developer commands: debug verify, ingest, forks, floating.
#include <fmt/format.h>

#include "commands.h"
#include "format_admin.h"
#include "format_sync.h"
#include "input.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {
namespace {

// An ingest file holds at most this many bytes: a few full calls' worth.
constexpr size_t kMaxIngestFileBytes = 256 * 1024 * 1024;

}  // namespace

absl::Status RunDebugVerify(Session& session) {
  const std::string& store = session.args().store;
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::VerifyResponse report, client->VerifyStore(store));
  LATTICE_RETURN_IF_ERROR(session.json() ? session.printer().Json(VerifyJson(store, report))
                                         : session.printer().Write(VerifyText(store, report)));
  if (report.ok()) return absl::OkStatus();
  return absl::DataLossError(fmt::format("store {} failed verification with {} problem{}", store,
                                         report.problems_size(),
                                         report.problems_size() == 1 ? "" : "s"));
}

absl::Status RunDebugIngest(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(std::string text, ReadFileOrStdin(args.file, kMaxIngestFileBytes));
  LATTICE_ASSIGN_OR_RETURN(std::vector<v1::SignedIntention> intentions,
                           ParseIngestText(text, args.file == "-" ? "stdin" : args.file));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  Printer& printer = session.printer();
  nlohmann::json outcomes = nlohmann::json::array();
  for (const auto& request : BuildIngestRequests(args.store, intentions)) {
    LATTICE_ASSIGN_OR_RETURN(v1::IngestResponse response, client->Ingest(request));
    for (const auto& outcome : response.outcomes()) {
      if (printer.json()) {
        outcomes.push_back(IngestOutcomeJson(outcome));
      } else {
        LATTICE_RETURN_IF_ERROR(printer.Line(IngestOutcomeLine(outcome)));
      }
    }
  }
  if (printer.json()) return printer.Json(nlohmann::json{{"outcomes", std::move(outcomes)}});
  return absl::OkStatus();
}

absl::Status RunDebugForks(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ForksResponse forks, client->Forks(session.args().store));
  if (session.json()) return session.printer().Json(ForksJson(forks));
  return session.printer().Write(ForksText(forks));
}

absl::Status RunDebugFloating(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::FloatingResponse floating,
                           client->Floating(session.args().store));
  if (session.json()) return session.printer().Json(FloatingJson(floating));
  return session.printer().Write(FloatingText(floating));
}

}  // namespace lattice::ctl
