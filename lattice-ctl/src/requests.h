// From command-line arguments to protocol requests: parsing of batch ops, rights, durations
// and ingest files. Pure functions; their errors are usage errors (exit 2) unless noted.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli.h"
#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// "put:KEY=VALUE" (the first '=' ends the key; VALUE may be empty) or "del:KEY".
absl::StatusOr<v1::BatchOp> ParseBatchOp(const std::string& text);
absl::StatusOr<v1::BatchRequest> BuildBatchRequest(const std::string& store,
                                                   const std::vector<std::string>& ops);

// "read,write,watch" in any order and combination; duplicates collapse.
absl::StatusOr<std::vector<std::string>> ParseRights(const std::string& text);

// The seconds of a DURATION option such as --ttl or --timeout ("90s", "15m", "12h", "30d",
// "2w", plain seconds); `flag` names it in errors. Zero is refused.
absl::StatusOr<uint64_t> ParseDurationOption(const std::string& flag, const std::string& text);
// --ttl in seconds, at most limits::kMaxTtlSeconds.
absl::StatusOr<uint64_t> ParseTtlOption(const std::string& text);

// --timeout in milliseconds: 0 (the kernel's default) when not given, at most
// kMaxTimeoutSeconds.
inline constexpr uint64_t kMaxTimeoutSeconds = 24 * 3600;
absl::StatusOr<uint64_t> ParseTimeoutMs(const std::string& text);

absl::StatusOr<v1::CreateTokenRequest> BuildCreateTokenRequest(const Arguments& args);

// peer invite [--mesh] [--ttl]
absl::StatusOr<v1::InvitePeerRequest> BuildInvitePeerRequest(const Arguments& args);
// peer join TOKEN [--name] [--timeout]: the token without surrounding blanks (a pasted token
// often carries some).
absl::StatusOr<v1::JoinMeshRequest> BuildJoinMeshRequest(const Arguments& args);
// peer revoke NODE [--mesh]
absl::StatusOr<v1::PeerRef> BuildRevokePeerRequest(const Arguments& args);
// peer rename NODE NAME [--mesh]
absl::StatusOr<v1::RenamePeerRequest> BuildRenamePeerRequest(const Arguments& args);
// store sync STORE [--peer] --wait [--timeout]
absl::StatusOr<v1::SyncStoreRequest> BuildSyncStoreRequest(const Arguments& args);

// service declare ID --store S (--policy P | --local) [--set KEY=VALUE]...
absl::StatusOr<v1::DeclareServiceRequest> BuildDeclareServiceRequest(const Arguments& args);
// service override ID --store S (KEY=VALUE | --clear KEY)
absl::StatusOr<v1::SetServiceOverrideRequest> BuildSetServiceOverrideRequest(const Arguments& args);

v1::ScanRequest BuildScanRequest(const Arguments& args);

// Without --from the watch starts at the current end of the log; --from N delivers the
// events after cursor N (so --from 0 replays everything).
v1::KvWatchRequest BuildKvWatchRequest(const Arguments& args);
v1::ChatWatchRequest BuildChatWatchRequest(const Arguments& args);

absl::StatusOr<v1::HistoryRequest> BuildHistoryRequest(const Arguments& args);

// The intentions in an ingest file: one hex-encoded serialized SignedIntention per line;
// blank lines and lines starting with '#' are skipped. INVALID_ARGUMENT naming `source` and
// the line for anything else (a bad file is a failure, exit 1, not a usage error).
absl::StatusOr<std::vector<v1::SignedIntention>> ParseIngestText(const std::string& text,
                                                                 const std::string& source);

// One or more requests of at most limits::kMaxIngestPerCall intentions each, in order.
std::vector<v1::IngestRequest> BuildIngestRequests(
    const std::string& store, const std::vector<v1::SignedIntention>& intentions);

}  // namespace lattice::ctl
