// How a store's replication looks: store status (counts, hashes, each peer's sync state), the
// results of store sync, and the floating intentions of debug floating.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// The store's fields, then a table of its peers: short node id, name, connected, last sync
// (relative to `now_ms`), lag and last error.
std::string StoreStatusText(const v1::StoreStatusResponse& response, uint64_t now_ms);
nlohmann::json StoreStatusJson(const v1::StoreStatusResponse& response);

// One row per peer: short node id, ok or FAILED, fetched, sent, rounds, bytes and error;
// without results (no other node shares `store`), a line saying there was nothing to do.
std::string SyncResultsText(const std::string& store, const v1::SyncStoreResponse& response);
// {"store","ok","nothing_to_reconcile","results":[{"node_id","ok","error","fetched","sent",
//  "rounds","bytes"}]}
nlohmann::json SyncResultsJson(const std::string& store, const v1::SyncStoreResponse& response);

// "<hash> <short author> seq <n> held" or "... missing <hash>,<hash>" (or both, comma-joined).
std::string FloatingLine(const v1::FloatingIntentionInfo& intention);
std::string FloatingText(const v1::FloatingResponse& response);
// {"intentions":[{"hash","author","seq","wall_ms","held","missing"}]}
nlohmann::json FloatingJson(const v1::FloatingResponse& response);

}  // namespace lattice::ctl
