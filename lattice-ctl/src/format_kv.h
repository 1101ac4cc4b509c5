// How key-value results look: human lines and JSON objects for get, scan, inspect, writes
// and watch events.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// {"key","value","conflicted","hlc","author"}
nlohmann::json GetJson(const std::string& key, const v1::GetResponse& response);

// {"hash","cursor","hlc"}
nlohmann::json WriteResultJson(const v1::WriteResult& result);

// "KEY<TAB>VALUE", with "<TAB>(conflicted)" appended when heads disagree.
std::string ScanEntryLine(const v1::ScanEntry& entry);
// {"key","value","conflicted"}
nlohmann::json ScanEntryJson(const v1::ScanEntry& entry);

std::string InspectText(const std::string& key, const v1::InspectResponse& response);
// {"key","conflicted","heads":[{"hash","hlc","author","value"|"deleted"}]}
nlohmann::json InspectJson(const std::string& key, const v1::InspectResponse& response);

// "<cursor> put <key> <value>" or "<cursor> del <key>", escaped onto one line.
std::string KvEventLine(const v1::KvEvent& event);
// {"cursor","op":"put"|"del","key","value"(put only),"author","hlc","hash"}
nlohmann::json KvEventJson(const v1::KvEvent& event);

}  // namespace lattice::ctl
