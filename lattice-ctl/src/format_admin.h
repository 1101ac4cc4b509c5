// How node administration results look: status, stores, tokens, and the debug reports
// (verify, ingest, forks).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// The node's fields, then one line per forked author and per bootstrap still running.
std::string StatusText(const v1::StatusResponse& status);
nlohmann::json StatusJson(const v1::StatusResponse& status);
// "bootstrap <store name or id> from <source, short>: <received>/<total or ?>"
std::string BootstrapLine(const v1::BootstrapProgress& bootstrap);

nlohmann::json StoreInfoJson(const v1::StoreInfo& store);
std::string StoreListText(const v1::ListStoresResponse& response);
// {"stores":[...]}
nlohmann::json StoreListJson(const v1::ListStoresResponse& response);

nlohmann::json TokenInfoJson(const v1::TokenInfo& token);
// The tokens neither revoked nor expired at `now_ms`.
v1::ListTokensResponse ActiveTokens(const v1::ListTokensResponse& response, uint64_t now_ms);
// `now_ms` tells expired tokens from active ones.
std::string TokenListText(const v1::ListTokensResponse& response, uint64_t now_ms);
nlohmann::json TokenListJson(const v1::ListTokensResponse& response);
// "id: <id>\ntoken: <secret>\n"
std::string CreatedTokenText(const v1::CreateTokenResponse& response);
// TokenInfoJson plus "token": the secret.
nlohmann::json CreatedTokenJson(const v1::CreateTokenResponse& response);

std::string VerifyText(const std::string& store, const v1::VerifyResponse& response);
nlohmann::json VerifyJson(const std::string& store, const v1::VerifyResponse& response);

// "<hash> <result>", with " (<reason>)" when the kernel gave one.
std::string IngestOutcomeLine(const v1::IngestOutcome& outcome);
nlohmann::json IngestOutcomeJson(const v1::IngestOutcome& outcome);

std::string ForksText(const v1::ForksResponse& response);
// {"authors":[...],"proofs":n}
nlohmann::json ForksJson(const v1::ForksResponse& response);

}  // namespace lattice::ctl
