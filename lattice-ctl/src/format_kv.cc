#include "format_kv.h"

#include <fmt/format.h>

#include "output.h"

namespace lattice::ctl {

nlohmann::json GetJson(const std::string& key, const v1::GetResponse& response) {
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "key", key);
  SetBytes(out, "value", response.value());
  out["conflicted"] = response.conflicted();
  out["hlc"] = HlcJson(response.hlc());
  out["author"] = response.author();
  return out;
}

nlohmann::json WriteResultJson(const v1::WriteResult& result) {
  return nlohmann::json{
      {"hash", result.hash()}, {"cursor", result.cursor()}, {"hlc", HlcJson(result.hlc())}};
}

std::string ScanEntryLine(const v1::ScanEntry& entry) {
  std::string line = EscapeForLine(entry.key()) + "\t" + EscapeForLine(entry.value());
  if (entry.conflicted()) line += "\t(conflicted)";
  return line;
}

nlohmann::json ScanEntryJson(const v1::ScanEntry& entry) {
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "key", entry.key());
  SetBytes(out, "value", entry.value());
  out["conflicted"] = entry.conflicted();
  return out;
}

std::string InspectText(const std::string& key, const v1::InspectResponse& response) {
  std::string out = fmt::format("key: {}\n", EscapeForLine(key));
  out += fmt::format("heads: {}{}\n", response.heads_size(),
                     response.conflicted() ? " (conflicted)" : "");
  int index = 0;
  for (const auto& head : response.heads()) {
    ++index;
    out += fmt::format("\nhead {}{}\n", index, index == 1 ? " (winner)" : "");
    out += FormatFields({
        {"  value", head.deleted() ? "(deleted)" : EscapeForLine(head.value())},
        {"  hlc", FormatHlc(head.hlc())},
        {"  author", head.author()},
        {"  hash", head.hash()},
    });
  }
  return out;
}

nlohmann::json InspectJson(const std::string& key, const v1::InspectResponse& response) {
  nlohmann::json out = nlohmann::json::object();
  SetBytes(out, "key", key);
  out["conflicted"] = response.conflicted();
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& head : response.heads()) {
    nlohmann::json item = {{"hash", head.hash()},
                           {"hlc", HlcJson(head.hlc())},
                           {"author", head.author()},
                           {"deleted", head.deleted()}};
    if (!head.deleted()) SetBytes(item, "value", head.value());
    heads.push_back(std::move(item));
  }
  out["heads"] = std::move(heads);
  return out;
}

std::string KvEventLine(const v1::KvEvent& event) {
  if (event.deleted()) return fmt::format("{} del {}", event.cursor(), EscapeForLine(event.key()));
  return fmt::format("{} put {} {}", event.cursor(), EscapeForLine(event.key()),
                     EscapeForLine(event.value()));
}

nlohmann::json KvEventJson(const v1::KvEvent& event) {
  nlohmann::json out = nlohmann::json::object();
  out["cursor"] = event.cursor();
  out["op"] = event.deleted() ? "del" : "put";
  SetBytes(out, "key", event.key());
  if (!event.deleted()) SetBytes(out, "value", event.value());
  out["author"] = event.author();
  out["hlc"] = HlcJson(event.hlc());
  out["hash"] = event.hash();
  return out;
}

}  // namespace lattice::ctl
